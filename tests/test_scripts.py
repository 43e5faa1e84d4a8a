"""Rule filters beyond Latin script: the phrase files of languages written in Cyrillic,
Arabic, Hebrew, Devanagari, Greek, Thai and CJK scripts, and of the Latin-script languages
added with them, and matching in scripts that put no spaces between words."""

from __future__ import annotations

import subprocess
import sys
import unicodedata
from functools import cache
from pathlib import Path

import pytest

from cleaner.errors import UsageError
from cleaner.normalize import normalize_text
from cleaner.rules import RuleSet
from cleaner.rules.files import builtin_phrase_files

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

SHIPPED = RuleSet.load()
NEW_LANGUAGES = ("ru", "uk", "bg", "ar", "he", "fa", "hi", "el", "zh", "ja", "ko", "th", "vi",
                 "id", "no", "fi", "hu", "ro")
MAIN_LISTS = ("ad_marker", "share_lead", "related_lead", "related_heading", "tags_lead",
              "comments_line", "legal_link", "account_link", "nav_line", "rights_reserved")

# Lines a page prints around an article, in each new language.
JUNK = {
    "ru": ["Реклама", "Читайте также: Госдума приняла закон о связи", "Все права защищены.",
           "12 комментариев", "Поделиться"],
    "uk": ["Реклама", "Читайте також: Рада ухвалила бюджет", "Поділитися"],
    "bg": ["Прочетете още: Парламентът прие бюджета", "Всички права запазени."],
    "ar": ["إعلان", "اقرأ أيضا: الحكومة تعلن الميزانية", "اقرأ أيضاً: الحكومة تعلن الميزانية",
           "جميع الحقوق محفوظة", "تابعونا على فيسبوك"],
    "he": ["פרסומת", "קראו גם: הממשלה אישרה את התקציב", "כל הזכויות שמורות"],
    "fa": ["تبلیغات", "بیشتر بخوانید: دولت بودجه را تصویب کرد", "کلیه حقوق محفوظ است.",
           "برچسب\u200cها: اقتصاد، سیاست"],
    "hi": ["विज्ञापन", "यह भी पढ़ें: सरकार ने बजट पेश किया", "ये भी पढ\u093c\u0947ं: सरकार ने बजट पेश किया",
           "ये भी प\u095d\u0947ं: सरकार ने बजट पेश किया"],
    "el": ["Διαφήμιση", "ΔΙΑΦΗΜΙΣΗ", "Διαβάστε επίσης: Η κυβέρνηση ενέκρινε τον προϋπολογισμό"],
    "zh": ["广告", "相关阅读：某某市发布新规", "延伸閱讀：台北市公布新制", "推荐阅读",
           "版权所有：中国青年网", "12条评论", "分享到：微信 微博", "标签：经济 政策"],
    "ja": ["広告", "関連記事：東京都が新制度を発表", "【関連記事】東京都が新制度を発表",
           "あわせて読みたい", "無断転載を禁じます", "タグ：政治", "5件のコメント"],
    "ko": ["광고", "관련 기사", "관련기사", "무단 전재 및 재배포 금지", "댓글 0"],
    "th": ["โฆษณา", "ข่าวที่เกี่ยวข้อง", "อ่านเพิ่มเติม: รัฐบาลประกาศงบประมาณ", "สงวนลิขสิทธิ์"],
    "vi": ["Quảng cáo", "Tin liên quan", "Xem thêm: Giá vàng tăng mạnh", "Chia sẻ"],
    "id": ["Iklan", "Baca juga: Harga beras naik lagi", "Berita terkait", "Bagikan"],
    "no": ["Annonse", "Les også: Regjeringen legger fram budsjettet", "Annonsørinnhold",
           "Del artikkel"],
    "fi": ["Mainos", "Lue myös: Hallitus esitteli budjetin", "Kaupallinen yhteistyö",
           "Jaa artikkeli"],
    "hu": ["Hirdetés", "Olvassa el ezt is: A kormány elfogadta a költségvetést",
           "Minden jog fenntartva."],
    "ro": ["Reclamă", "Citește și: Guvernul a adoptat bugetul",
           "Citeşte şi: Guvernul a adoptat bugetul", "Toate drepturile rezervate."],
}

# Prose that holds the same words: it must stay, whatever languages are loaded.
PROSE = {
    "ru": ["Закон о рекламе вступил в силу в марте.",
           "Читайте также внимательно инструкцию к лекарству, советуют врачи.",
           "Поделиться опытом пригласили ветеранов отрасли."],
    "uk": ["Реклама на телебаченні втрачає глядачів, свідчить дослідження.",
           "Читайте також уважно умови договору, радять юристи."],
    "bg": ["Прочетете още веднъж условията на договора, съветват юристите."],
    "ar": ["أعلنت الحكومة عن إعلان جديد بشأن الميزانية يوم الثلاثاء.",
           "اقرأ أيضا الكتب التي أوصى بها المعلم قبل الامتحان."],
    "he": ["פרסומת חדשה של החברה עוררה סערה ברשתות.", "קראו גם את הדוח המלא שפורסם אתמול."],
    "fa": ["تبلیغات انتخاباتی از هفته آینده آغاز می\u200cشود.",
           "بیشتر بخوانید تا بیشتر بدانید، این شعار کتابخانه است."],
    "hi": ["विज्ञापन पर खर्च पिछले साल चार प्रतिशत बढ़ा।",
           "यह भी पढ़ें कि नियम क्या कहते हैं, विशेषज्ञों ने सलाह दी।"],
    "el": ["Η διαφήμιση στην τηλεόραση μειώθηκε πέρυσι κατά 4%.",
           "Διαβάστε επίσης τους όρους πριν υπογράψετε, συμβουλεύουν οι δικηγόροι."],
    "zh": ["广告法修订后，平台需要承担更多责任。", "相关阅读材料已发给学生。",
           "分享经济正在改变城市生活。", "该书的版权所有人为作者本人。"],
    "ja": ["広告収入は前年より減少した。", "関連記事を読んだ読者から多くの反響があった。",
           "あわせて読みたい本を三冊紹介する。", "会員限定記事の閲覧数が増えたと同社は発表した。"],
    "ko": ["광고 시장은 지난해 4% 줄었다.", "관련 기사를 쓴 기자는 징계를 받았다."],
    "th": ["โฆษณาชิ้นนี้ได้รับรางวัลจากเทศกาลเมืองคานส์", "ข่าวที่เกี่ยวข้องกับการเลือกตั้งได้รับความสนใจมาก"],
    "vi": ["Quảng cáo trên truyền hình giảm 4% trong năm qua.",
           "Xem thêm các quy định mới tại cổng thông tin của bộ."],
    "id": ["Baca juga buku-buku karya penulis lokal di perpustakaan kota.",
           "Iklan rokok dilarang tayang pada jam anak-anak."],
    "no": ["Annonse i avisen kostet butikken over 10 000 kroner.",
           "Les også forskriften før du søker, anbefaler kommunen."],
    "fi": ["Mainos herätti paljon keskustelua sosiaalisessa mediassa.",
           "Lue myös sopimusehdot ennen allekirjoittamista, neuvoo asianajaja."],
    "hu": ["Hirdetés nélkül a lap nem maradhatott volna életben.",
           "Olvassa el ezt is, mielőtt aláírja a szerződést, tanácsolja az ügyvéd."],
    "ro": ["Reclamă făcută de primărie a costat 20.000 de lei.",
           "Citește și regulamentul înainte de a semna, recomandă avocații."],
}

JUNK_CASES = [(lang, line) for lang, lines in JUNK.items() for line in lines]
PROSE_CASES = [(lang, line) for lang, lines in PROSE.items() for line in lines]


@cache
def _rules_of(lang: str) -> RuleSet:
    return RuleSet.load(langs=[lang])


def _hit(rules: RuleSet, line: str) -> str | None:
    """The rule that removes ``line`` as the pipeline sees it: normalized, and alone in its
    document, so that the head and tail rules apply too."""
    hit = rules.match(normalize_text(line))[0]
    return hit.rule.id if hit else None


def test_every_new_language_has_a_phrase_file_and_its_main_lists() -> None:
    assert set(JUNK) == set(PROSE) == set(NEW_LANGUAGES)
    files = builtin_phrase_files()
    for lang in NEW_LANGUAGES:
        with open(files[lang], "rb") as f:
            lists = tomllib.load(f)
        assert [name for name in MAIN_LISTS if not lists.get(name)] == [], lang


@pytest.mark.parametrize(("lang", "line"), JUNK_CASES,
                         ids=[f"{c[0]}:{c[1][:20]}" for c in JUNK_CASES])
def test_new_language_junk_line_is_removed_with_its_language_alone_and_with_all(lang: str,
                                                                                 line: str) -> None:
    assert _hit(_rules_of(lang), line) is not None
    assert _hit(SHIPPED, line) is not None


@pytest.mark.parametrize(("lang", "line"), PROSE_CASES,
                         ids=[f"{c[0]}:{c[1][:20]}" for c in PROSE_CASES])
def test_new_language_prose_holding_the_junk_words_is_kept(lang: str, line: str) -> None:
    assert _hit(SHIPPED, line) is None
    assert _hit(_rules_of(lang), line) is None


@pytest.mark.parametrize(("line", "rule_id"), [
    ("广告", "ad.marker"),
    ("【広告】", "ad.marker"),
    ("相关阅读", "related.heading"),
    ("相关阅读：某某市发布新规", "related.lead"),
    ("推荐阅读:某某市发布新规", "related.lead"),
    ("関連記事：東京都が新制度を発表", "related.lead"),
    ("【関連記事】東京都が新制度を発表", "related.lead"),
    ("■関連記事", "related.heading"),
    ("上一篇：愛上喜翁露營", "related.lead"),
    ("ข่าวที่เกี่ยวข้อง: รัฐบาลประกาศงบประมาณ", "related.lead"),
    ("隐私政策 ｜ 使用条款 ｜ 联系我们", "legal.links"),
    ("评论（12）", "comments.count-label"),
])
def test_unspaced_scripts_match_the_rules_a_latin_line_would(line: str, rule_id: str) -> None:
    # A CJK or Thai "word" runs on into the title: the lead is found as a prefix of that run,
    # and full-width colons, bars and brackets stand where the patterns list ASCII ones.
    assert _hit(SHIPPED, line) == rule_id


def test_unspaced_run_that_only_starts_with_a_lead_is_kept() -> None:
    for line in ("相关阅读某某市发布新规", "広告主の数が増えた", "関連記事一覧を作る方法",
                 "ข่าวที่เกี่ยวข้องกัน"):
        assert _hit(SHIPPED, line) is None, line


def _ids(rules: RuleSet, lines: list[str]) -> list[str | None]:
    return [hit.rule.id if hit else None for hit in rules.match(lines)]


def test_index_never_skips_a_rule_in_unspaced_and_right_to_left_scripts() -> None:
    unindexed = RuleSet(SHIPPED.rules)
    lines = [normalize_text(line)[0] for _, line in JUNK_CASES + PROSE_CASES]
    variants = [v for line in lines for v in (
        line, f"■{line}", f"【{line}】", f"{line}某某", f"12{line}", f"・{line}",
        f"{line}：タイトル", f"* {line}", f"o 3 {line}", f"\u200f{line}", line.upper())]
    for start in range(0, len(variants), 40):  # documents of 40 lines: every zone is used
        chunk = variants[start:start + 40]
        assert _ids(SHIPPED, chunk) == _ids(unindexed, chunk)


def test_shipped_phrases_are_stored_in_nfc() -> None:
    # The loader normalizes them anyway; stored in NFC, the files read as they match.
    for lang, path in builtin_phrase_files().items():
        with open(path, "rb") as f:
            lists = tomllib.load(f)
        odd = [p for items in lists.values() for p in items
               if not unicodedata.is_normalized("NFC", p)]
        assert odd == [], lang


def test_a_phrase_matches_whatever_normal_form_it_was_typed_in(tmp_path: Path) -> None:
    # U+095D (a precomposed nukta letter) and a Thai tone mark typed before its vowel both
    # change under NFC; the lines they are matched against are always in NFC.
    path = tmp_path / "mine.toml"
    path.write_text("[phrases]\nmine = ['ये भी प\u095d\u0947ं', 'ด\u0e48\u0e39']\n\n"
                    "[[rule]]\nid = 'mine.lead'\ncategory = 'related'\npattern = '\\L<mine>'\n",
                    encoding="utf-8")
    rules = RuleSet.load([path], builtin=False)
    lines = normalize_text("ये भी प\u095d\u0947ं\nด\u0e48\u0e39")
    assert _ids(rules, lines) == ["mine.lead", "mine.lead"]


def test_language_codes_of_every_script_load_and_unknown_ones_are_refused() -> None:
    chinese = RuleSet.load(langs=["zh"])
    assert _ids(chinese, ["正文第一段。", "广告"]) == [None, "ad.marker"]
    assert _ids(chinese, ["正文第一段。", "Anzeige"]) == [None, None]
    assert _ids(RuleSet.load(langs=["ja", "ko"]), ["本文。", "広告", "광고"])[1:] == [
        "ad.marker", "ad.marker"]
    for wrong in (["jp"], ["cn"], ["zh-CN"], ["zh", "kr"]):
        with pytest.raises(UsageError, match="unknown language code"):
            RuleSet.load(langs=wrong)


def test_cli_cleans_a_japanese_document_with_lang_ja() -> None:
    doc = ("東京都は火曜日、新しい制度を発表した。\n広告\n関連記事：東京都が新制度を発表\n"
           "都内の企業は歓迎している。\n無断転載を禁じます\n")
    proc = subprocess.run([sys.executable, "-m", "cleaner", "--no-model", "--lang", "ja"],
                          input=doc.encode(), capture_output=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.decode().split() == ["東京都は火曜日、新しい制度を発表した。",
                                            "都内の企業は歓迎している。"]
    refused = subprocess.run([sys.executable, "-m", "cleaner", "--no-model", "--lang", "jp"],
                             input=doc.encode(), capture_output=True, timeout=120, check=False)
    assert refused.returncode == 2 and b"'jp'" in refused.stderr
