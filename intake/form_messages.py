"""What a citizen reads when an answer on an application form is refused.

Every message exists in English, Punjabi (Gurmukhi) and Hindi (Devanagari). Each one is
a predicate that reads correctly after the field's label and a colon ("Date of birth:
is not a valid date") and on its own next to the field; the Punjabi and Hindi are
phrased so that they need no grammatical gender from the label.
"""

from __future__ import annotations

from collections.abc import Mapping

from sanad.i18n import LANGUAGES, Language, LocalizedText

# LANGUAGES and Language are sanad.i18n's, named here too for the modules that still
# import them from this one.
__all__ = ["LANGUAGES", "MESSAGES", "Language", "message"]

MESSAGES: Mapping[str, LocalizedText] = {
    "not_object": LocalizedText(
        en="must be an object of answers keyed by field name",
        pa="ਖ਼ਾਨਿਆਂ ਦੇ ਨਾਮ ਅਨੁਸਾਰ ਜਵਾਬਾਂ ਦਾ ਸਮੂਹ ਹੋਣਾ ਚਾਹੀਦਾ ਹੈ",
        hi="फ़ील्ड के नाम के अनुसार उत्तरों का समूह होना चाहिए",
    ),
    "unknown": LocalizedText(
        en="is not a field of this form",
        pa="ਇਸ ਫ਼ਾਰਮ ਦਾ ਖ਼ਾਨਾ ਨਹੀਂ ਹੈ",
        hi="इस फ़ॉर्म का फ़ील्ड नहीं है",
    ),
    "required": LocalizedText(
        en="is required",
        pa="ਭਰਨਾ ਲਾਜ਼ਮੀ ਹੈ",
        hi="भरना अनिवार्य है",
    ),
    "not_text": LocalizedText(
        en="must be text",
        pa="ਵਿੱਚ ਸ਼ਬਦ ਲਿਖੇ ਜਾਣੇ ਚਾਹੀਦੇ ਹਨ",
        hi="में शब्द लिखे जाने चाहिए",
    ),
    "control_characters": LocalizedText(
        en="must not contain control characters",
        pa="ਵਿੱਚ ਕੰਟਰੋਲ ਅੱਖਰ ਨਹੀਂ ਹੋਣੇ ਚਾਹੀਦੇ",
        hi="में नियंत्रण वर्ण नहीं होने चाहिए",
    ),
    "invisible_characters": LocalizedText(
        en="must not contain invisible characters (such as direction marks or zero-width spaces)",
        pa="ਵਿੱਚ ਅਦਿੱਖ ਅੱਖਰ (ਜਿਵੇਂ ਦਿਸ਼ਾ ਚਿੰਨ੍ਹ ਜਾਂ ਜ਼ੀਰੋ-ਚੌੜਾਈ ਖ਼ਾਲੀ ਥਾਂ) ਨਹੀਂ ਹੋਣੇ ਚਾਹੀਦੇ",
        hi="में अदृश्य वर्ण (जैसे दिशा चिह्न या शून्य-चौड़ाई रिक्त स्थान) नहीं होने चाहिए",
    ),
    "too_long": LocalizedText(
        en="must be at most {max_length} characters",
        pa="ਵਿੱਚ ਵੱਧ ਤੋਂ ਵੱਧ {max_length} ਅੱਖਰ ਹੋ ਸਕਦੇ ਹਨ",
        hi="में अधिकतम {max_length} अक्षर हो सकते हैं",
    ),
    "pattern": LocalizedText(
        en="is not in the expected format",
        pa="ਲੋੜੀਂਦੇ ਰੂਪ ਵਿੱਚ ਨਹੀਂ ਹੈ",
        hi="अपेक्षित प्रारूप में नहीं है",
    ),
    "not_number": LocalizedText(
        en="must be a whole number",
        pa="ਵਿੱਚ ਸਿਰਫ਼ ਪੂਰਨ ਅੰਕ ਭਰੇ ਜਾ ਸਕਦੇ ਹਨ",
        hi="में केवल पूर्ण संख्या भरी जा सकती है",
    ),
    "too_small": LocalizedText(
        en="must be at least {min}",
        pa="ਘੱਟੋ-ਘੱਟ {min} ਹੋਣਾ ਚਾਹੀਦਾ ਹੈ",
        hi="कम से कम {min} होना चाहिए",
    ),
    "too_large": LocalizedText(
        en="must be at most {max}",
        pa="ਵੱਧ ਤੋਂ ਵੱਧ {max} ਹੋ ਸਕਦਾ ਹੈ",
        hi="अधिकतम {max} हो सकता है",
    ),
    "date_format": LocalizedText(
        en="must be a date in YYYY-MM-DD form",
        pa="ਵਿੱਚ ਮਿਤੀ YYYY-MM-DD ਰੂਪ ਵਿੱਚ ਭਰੀ ਜਾਣੀ ਚਾਹੀਦੀ ਹੈ",
        hi="में तिथि YYYY-MM-DD रूप में भरी जानी चाहिए",
    ),
    "not_a_date": LocalizedText(
        en="is not a valid date",
        pa="ਸਹੀ ਮਿਤੀ ਨਹੀਂ ਹੈ",
        hi="मान्य तिथि नहीं है",
    ),
    "not_a_choice": LocalizedText(
        en="must be one of: {choices}",
        pa="ਇਹਨਾਂ ਵਿੱਚੋਂ ਇੱਕ ਚੁਣੋ: {choices}",
        hi="इनमें से एक चुनें: {choices}",
    ),
    "not_a_mobile": LocalizedText(
        en="must be a 10-digit Indian mobile number starting with 6, 7, 8 or 9",
        pa="6, 7, 8 ਜਾਂ 9 ਨਾਲ ਸ਼ੁਰੂ ਹੋਣ ਵਾਲਾ 10 ਅੰਕਾਂ ਦਾ ਭਾਰਤੀ ਮੋਬਾਈਲ ਨੰਬਰ ਹੋਣਾ ਚਾਹੀਦਾ ਹੈ",
        hi="6, 7, 8 या 9 से शुरू होने वाला 10 अंकों का भारतीय मोबाइल नंबर होना चाहिए",
    ),
    "not_an_email": LocalizedText(
        en="must be an e-mail address such as name@example.com",
        pa="name@example.com ਵਰਗਾ ਈ-ਮੇਲ ਪਤਾ ਹੋਣਾ ਚਾਹੀਦਾ ਹੈ",
        hi="name@example.com जैसा ई-मेल पता होना चाहिए",
    ),
    "wrong_office": LocalizedText(
        en="choose an office that delivers this service",
        pa="ਉਹ ਦਫ਼ਤਰ ਚੁਣੋ ਜੋ ਇਹ ਸੇਵਾ ਦਿੰਦਾ ਹੈ",
        hi="वह कार्यालय चुनें जो यह सेवा देता है",
    ),
    "unknown_service": LocalizedText(
        en="is not a service in the catalogue",
        pa="ਸੇਵਾਵਾਂ ਦੀ ਸੂਚੀ ਵਿੱਚ ਨਹੀਂ ਹੈ",
        hi="सेवाओं की सूची में नहीं है",
    ),
    "attachment_not_asked": LocalizedText(
        en="this service does not ask for this document",
        pa="ਇਹ ਸੇਵਾ ਇਹ ਦਸਤਾਵੇਜ਼ ਨਹੀਂ ਮੰਗਦੀ",
        hi="यह सेवा यह दस्तावेज़ नहीं माँगती",
    ),
    "attachment_twice": LocalizedText(
        en="only one file per document",
        pa="ਹਰ ਦਸਤਾਵੇਜ਼ ਲਈ ਸਿਰਫ਼ ਇੱਕ ਫ਼ਾਈਲ",
        hi="हर दस्तावेज़ के लिए केवल एक फ़ाइल",
    ),
    "attachment_required": LocalizedText(
        en="is required: {label}",
        pa="ਲਾਜ਼ਮੀ ਹੈ: {label}",
        hi="अनिवार्य है: {label}",
    ),
}


def message(key: str, language: Language, **values: object) -> str:
    """The message ``key`` in ``language`` with ``{placeholders}`` filled from ``values``."""
    text: str = getattr(MESSAGES[key], language)
    return text.format(**values) if values else text
