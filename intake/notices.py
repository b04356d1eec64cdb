"""What citizens are told when their application moves, in the language they applied in."""

from __future__ import annotations

_TEXTS: dict[str, dict[str, str]] = {
    "submitted": {
        "en": "Sanad: application {number} for {service} received. Decision due by {due}.",
        "pa": "ਸਨਦ: {service} ਲਈ ਅਰਜ਼ੀ {number} ਪ੍ਰਾਪਤ ਹੋਈ। ਫ਼ੈਸਲੇ ਦੀ ਆਖ਼ਰੀ ਮਿਤੀ {due}।",
        "hi": "सनद: {service} के लिए आवेदन {number} प्राप्त हुआ। निर्णय की अंतिम तिथि {due}।",
    },
    "returned": {
        "en": "Sanad: application {number} needs more information from you: {remarks}",
        "pa": "ਸਨਦ: ਅਰਜ਼ੀ {number} ਲਈ ਤੁਹਾਡੇ ਤੋਂ ਹੋਰ ਜਾਣਕਾਰੀ ਚਾਹੀਦੀ ਹੈ: {remarks}",
        "hi": "सनद: आवेदन {number} के लिए आपसे और जानकारी चाहिए: {remarks}",
    },
    "resubmitted": {
        "en": "Sanad: application {number} resubmitted. Decision due by {due}.",
        "pa": "ਸਨਦ: ਅਰਜ਼ੀ {number} ਦੁਬਾਰਾ ਜਮ੍ਹਾਂ ਹੋਈ। ਫ਼ੈਸਲੇ ਦੀ ਆਖ਼ਰੀ ਮਿਤੀ {due}।",
        "hi": "सनद: आवेदन {number} फिर से जमा हुआ। निर्णय की अंतिम तिथि {due}।",
    },
    "rejected": {
        "en": "Sanad: application {number} was rejected: {remarks}",
        "pa": "ਸਨਦ: ਅਰਜ਼ੀ {number} ਰੱਦ ਕੀਤੀ ਗਈ: {remarks}",
        "hi": "सनद: आवेदन {number} अस्वीकार किया गया: {remarks}",
    },
    "issued": {
        "en": "Sanad: your {service} (application {number}) is issued and is in your locker.",
        "pa": "ਸਨਦ: ਤੁਹਾਡਾ {service} (ਅਰਜ਼ੀ {number}) ਜਾਰੀ ਹੋ ਗਿਆ ਹੈ ਅਤੇ ਤੁਹਾਡੇ ਲਾਕਰ ਵਿੱਚ ਹੈ।",
        "hi": "सनद: आपका {service} (आवेदन {number}) जारी हो गया है और आपके लॉकर में है।",
    },
}

EVENTS = tuple(_TEXTS)


def notice(event: str, language: str, **values: str) -> str:
    texts = _TEXTS[event]
    return (texts.get(language) or texts["en"]).format(**values)
