"""What a citizen reads when an answer on an application form, or a document sent with
it, is refused.

Every message exists in English, Punjabi (Gurmukhi) and Hindi (Devanagari), and every
message about one field or document names it (``{label}``, the question or the document
as the form prints it in that language): the same sentence serves next to the field and
in the list of problems at the top of the page, where it must stand on its own. The
Punjabi and Hindi are phrased (mostly as requests: "fill in", "upload") so that they need
no grammatical gender from the label.
"""

from __future__ import annotations

from collections.abc import Mapping

from sanad.i18n import LANGUAGES, Language, LocalizedText

# LANGUAGES and Language are sanad.i18n's, named here too for the modules that still
# import them from this one.
__all__ = ["LANGUAGES", "MESSAGES", "Language", "message"]

MESSAGES: Mapping[str, LocalizedText] = {
    "not_object": LocalizedText(
        en="The answers must be an object keyed by field name",
        pa="ਜਵਾਬ ਖ਼ਾਨਿਆਂ ਦੇ ਨਾਮ ਅਨੁਸਾਰ ਇੱਕ ਸਮੂਹ ਵਿੱਚ ਭੇਜੋ",
        hi="उत्तर फ़ील्ड के नाम के अनुसार एक समूह में भेजें",
    ),
    "unknown": LocalizedText(
        en="{label} is not a field of this form",
        pa="{label} ਇਸ ਫ਼ਾਰਮ ਦਾ ਖ਼ਾਨਾ ਨਹੀਂ ਹੈ",
        hi="{label} इस फ़ॉर्म का फ़ील्ड नहीं है",
    ),
    "officer_only": LocalizedText(
        en="{label} is filled in by the office when it decides; leave it out of the application",
        pa="{label} ਦਫ਼ਤਰ ਫ਼ੈਸਲੇ ਸਮੇਂ ਭਰਦਾ ਹੈ; ਇਸ ਨੂੰ ਅਰਜ਼ੀ ਵਿੱਚ ਨਾ ਭੇਜੋ",
        hi="{label} कार्यालय निर्णय के समय भरता है; इसे आवेदन में न भेजें",
    ),
    "required": LocalizedText(
        en="{label} is required",
        pa="{label} ਭਰਨਾ ਲਾਜ਼ਮੀ ਹੈ",
        hi="{label} भरना अनिवार्य है",
    ),
    "english_suggested": LocalizedText(
        en="{label}: write it in English letters as it should be printed, for example “{suggestion}” "
        "(suggested from the Gurmukhi: check it)",
        pa="{label} ਅੰਗਰੇਜ਼ੀ ਅੱਖਰਾਂ ਵਿੱਚ ਉਵੇਂ ਲਿਖੋ ਜਿਵੇਂ ਛਪਣਾ ਹੈ, ਜਿਵੇਂ “{suggestion}” (ਗੁਰਮੁਖੀ ਤੋਂ ਸੁਝਾਇਆ: ਇਸ ਨੂੰ ਜਾਂਚੋ)",
        hi="{label} अंग्रेज़ी अक्षरों में वैसे लिखें जैसे छपना है, जैसे “{suggestion}” (गुरमुखी से सुझाया गया: इसे जाँचें)",
    ),
    "not_text": LocalizedText(
        en="{label} must be text",
        pa="{label} ਵਿੱਚ ਸ਼ਬਦ ਲਿਖੋ",
        hi="{label} में शब्द लिखें",
    ),
    "control_characters": LocalizedText(
        en="{label} must not contain control characters",
        pa="{label} ਵਿੱਚ ਕੰਟਰੋਲ ਅੱਖਰ ਨਾ ਲਿਖੋ",
        hi="{label} में नियंत्रण वर्ण न लिखें",
    ),
    "invisible_characters": LocalizedText(
        en="{label} must not contain invisible characters (such as direction marks or zero-width spaces)",
        pa="{label} ਵਿੱਚ ਅਦਿੱਖ ਅੱਖਰ (ਜਿਵੇਂ ਦਿਸ਼ਾ ਚਿੰਨ੍ਹ ਜਾਂ ਜ਼ੀਰੋ-ਚੌੜਾਈ ਖ਼ਾਲੀ ਥਾਂ) ਨਾ ਲਿਖੋ",
        hi="{label} में अदृश्य वर्ण (जैसे दिशा चिह्न या शून्य-चौड़ाई रिक्त स्थान) न लिखें",
    ),
    "too_long": LocalizedText(
        en="{label} must be at most {max_length} characters (you wrote {length})",
        pa="{label} ਵਿੱਚ ਵੱਧ ਤੋਂ ਵੱਧ {max_length} ਅੱਖਰ ਲਿਖੋ (ਤੁਸੀਂ {length} ਲਿਖੇ ਹਨ)",
        hi="{label} में अधिकतम {max_length} अक्षर लिखें (आपने {length} लिखे हैं)",
    ),
    "pattern": LocalizedText(
        en="{label} is not in the expected format",
        pa="{label} ਲੋੜੀਂਦੇ ਰੂਪ ਵਿੱਚ ਨਹੀਂ ਹੈ",
        hi="{label} अपेक्षित प्रारूप में नहीं है",
    ),
    "not_number": LocalizedText(
        en="{label} must be a whole number, such as 180000 or 1,80,000",
        pa="{label} ਵਿੱਚ ਸਿਰਫ਼ ਪੂਰਨ ਅੰਕ ਭਰੋ, ਜਿਵੇਂ 180000 ਜਾਂ 1,80,000",
        hi="{label} में केवल पूर्ण संख्या भरें, जैसे 180000 या 1,80,000",
    ),
    "too_small": LocalizedText(
        en="{label} must be at least {min}",
        pa="{label} ਵਿੱਚ ਘੱਟੋ-ਘੱਟ {min} ਭਰੋ",
        hi="{label} में कम से कम {min} भरें",
    ),
    "too_large": LocalizedText(
        en="{label} must be at most {max}",
        pa="{label} ਵਿੱਚ ਵੱਧ ਤੋਂ ਵੱਧ {max} ਭਰੋ",
        hi="{label} में अधिकतम {max} भरें",
    ),
    "date_format": LocalizedText(
        en="{label} must be a date in YYYY-MM-DD form",
        pa="{label} ਵਿੱਚ ਮਿਤੀ YYYY-MM-DD ਰੂਪ ਵਿੱਚ ਭਰੋ",
        hi="{label} में तिथि YYYY-MM-DD रूप में भरें",
    ),
    "not_a_date": LocalizedText(
        en="{label} is not a valid date",
        pa="{label} ਵਿੱਚ ਭਰੀ ਮਿਤੀ ਸਹੀ ਨਹੀਂ ਹੈ",
        hi="{label} में भरी तिथि मान्य नहीं है",
    ),
    "not_a_choice": LocalizedText(
        en="For {label}, choose one of: {choices}",
        pa="{label} ਲਈ ਇਹਨਾਂ ਵਿੱਚੋਂ ਇੱਕ ਚੁਣੋ: {choices}",
        hi="{label} के लिए इनमें से एक चुनें: {choices}",
    ),
    "not_a_mobile": LocalizedText(
        en="{label} must be a 10-digit Indian mobile number starting with 6, 7, 8 or 9",
        pa="{label} ਵਿੱਚ 6, 7, 8 ਜਾਂ 9 ਨਾਲ ਸ਼ੁਰੂ ਹੋਣ ਵਾਲਾ 10 ਅੰਕਾਂ ਦਾ ਭਾਰਤੀ ਮੋਬਾਈਲ ਨੰਬਰ ਭਰੋ",
        hi="{label} में 6, 7, 8 या 9 से शुरू होने वाला 10 अंकों का भारतीय मोबाइल नंबर भरें",
    ),
    "not_citizen_mobile": LocalizedText(
        en="{label} must be the citizen's mobile number given for this application",
        pa="{label} ਵਿੱਚ ਇਸ ਅਰਜ਼ੀ ਲਈ ਦਿੱਤਾ ਨਾਗਰਿਕ ਦਾ ਮੋਬਾਈਲ ਨੰਬਰ ਹੀ ਭਰੋ",
        hi="{label} में इस आवेदन के लिए दिया गया नागरिक का मोबाइल नंबर ही भरें",
    ),
    "not_an_email": LocalizedText(
        en="{label} must be an e-mail address such as name@example.com",
        pa="{label} ਵਿੱਚ name@example.com ਵਰਗਾ ਈ-ਮੇਲ ਪਤਾ ਭਰੋ",
        hi="{label} में name@example.com जैसा ई-मेल पता भरें",
    ),
    "not_a_financial_year": LocalizedText(
        en="{label} must be written as a year and the next, such as 2025-26",
        pa="{label} ਸਾਲ ਅਤੇ ਅਗਲੇ ਸਾਲ ਵਜੋਂ ਲਿਖੋ, ਜਿਵੇਂ 2025-26",
        hi="{label} वर्ष और अगले वर्ष के रूप में लिखें, जैसे 2025-26",
    ),
    "financial_year_not_consecutive": LocalizedText(
        en="{label} must be two years in a row, such as {example}",
        pa="{label} ਵਿੱਚ ਲਗਾਤਾਰ ਦੋ ਸਾਲ ਲਿਖੋ, ਜਿਵੇਂ {example}",
        hi="{label} में लगातार दो वर्ष लिखें, जैसे {example}",
    ),
    "financial_year_out_of_range": LocalizedText(
        en="{label} must be between {earliest} and {latest}",
        pa="{label} {earliest} ਅਤੇ {latest} ਦੇ ਵਿਚਕਾਰ ਦਾ ਲਿਖੋ",
        hi="{label} {earliest} और {latest} के बीच का लिखें",
    ),
    "wrong_office": LocalizedText(
        en="Choose an office that delivers this service",
        pa="ਉਹ ਦਫ਼ਤਰ ਚੁਣੋ ਜੋ ਇਹ ਸੇਵਾ ਦਿੰਦਾ ਹੈ",
        hi="वह कार्यालय चुनें जो यह सेवा देता है",
    ),
    "unknown_service": LocalizedText(
        en="{label} is not a service in the catalogue",
        pa="{label} ਸੇਵਾਵਾਂ ਦੀ ਸੂਚੀ ਵਿੱਚ ਨਹੀਂ ਹੈ",
        hi="{label} सेवाओं की सूची में नहीं है",
    ),
    "attachment_not_asked": LocalizedText(
        en="This service does not ask for {label}",
        pa="ਇਹ ਸੇਵਾ {label} ਨਹੀਂ ਮੰਗਦੀ",
        hi="यह सेवा {label} नहीं माँगती",
    ),
    "attachment_twice": LocalizedText(
        en="Send only one file for {label}",
        pa="{label} ਲਈ ਸਿਰਫ਼ ਇੱਕ ਫ਼ਾਈਲ ਭੇਜੋ",
        hi="{label} के लिए केवल एक फ़ाइल भेजें",
    ),
    "attachment_required": LocalizedText(
        en="Upload {label}",
        pa="{label} ਅੱਪਲੋਡ ਕਰੋ",
        hi="{label} अपलोड करें",
    ),
    "attachment_too_large": LocalizedText(
        en="{label}: the file is {size}, larger than the {limit} limit; send a smaller file or a scan",
        pa="{label}: ਫ਼ਾਈਲ {size} ਦੀ ਹੈ, ਜੋ {limit} ਦੀ ਸੀਮਾ ਤੋਂ ਵੱਡੀ ਹੈ; ਛੋਟੀ ਫ਼ਾਈਲ ਜਾਂ ਸਕੈਨ ਭੇਜੋ",
        hi="{label}: फ़ाइल {size} की है, जो {limit} की सीमा से बड़ी है; छोटी फ़ाइल या स्कैन भेजें",
    ),
    "attachment_wrong_type": LocalizedText(
        en="{label}: this type of file is not accepted; send {types}",
        pa="{label}: ਇਸ ਕਿਸਮ ਦੀ ਫ਼ਾਈਲ ਨਹੀਂ ਲਈ ਜਾਂਦੀ; {types} ਭੇਜੋ",
        hi="{label}: इस प्रकार की फ़ाइल स्वीकार नहीं की जाती; {types} भेजें",
    ),
    "attachment_heic": LocalizedText(
        en="{label}: HEIC photos (the iPhone's usual format) are not accepted; send it as {types}",
        pa="{label}: HEIC ਫੋਟੋ (iPhone ਦਾ ਆਮ ਰੂਪ) ਨਹੀਂ ਲਈ ਜਾਂਦੀ; ਇਸ ਨੂੰ {types} ਵਜੋਂ ਭੇਜੋ",
        hi="{label}: HEIC फ़ोटो (iPhone का सामान्य प्रारूप) स्वीकार नहीं की जाती; इसे {types} के रूप में भेजें",
    ),
    "not_marked": LocalizedText(
        en="The office did not ask you to change {label}: only what it marked can be changed",
        pa="ਦਫ਼ਤਰ ਨੇ {label} ਬਦਲਣ ਲਈ ਨਹੀਂ ਕਿਹਾ: ਸਿਰਫ਼ ਨਿਸ਼ਾਨ ਲੱਗੀਆਂ ਚੀਜ਼ਾਂ ਬਦਲੀਆਂ ਜਾ ਸਕਦੀਆਂ ਹਨ",
        hi="कार्यालय ने {label} बदलने के लिए नहीं कहा: केवल चिह्नित चीज़ें बदली जा सकती हैं",
    ),
    "marked_attachment_required": LocalizedText(
        en="Upload {label}: the office asked for it",
        pa="{label} ਅੱਪਲੋਡ ਕਰੋ: ਦਫ਼ਤਰ ਨੇ ਇਸ ਦੀ ਮੰਗ ਕੀਤੀ ਹੈ",
        hi="{label} अपलोड करें: कार्यालय ने इसकी माँग की है",
    ),
}


def message(key: str, language: Language, **values: object) -> str:
    """The message ``key`` in ``language`` with ``{placeholders}`` filled from ``values``."""
    text: str = getattr(MESSAGES[key], language)
    return text.format(**values) if values else text
