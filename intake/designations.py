"""The designations of the catalogue's deciding roles, as a certificate prints them."""

from __future__ import annotations

from sanad.i18n import LocalizedText

DESIGNATIONS: dict[str, LocalizedText] = {
    "tehsildar": LocalizedText(en="Tehsildar", pa="ਤਹਿਸੀਲਦਾਰ", hi="तहसीलदार"),
    "registrar-births-deaths": LocalizedText(
        en="Registrar (Births and Deaths)", pa="ਰਜਿਸਟਰਾਰ (ਜਨਮ ਅਤੇ ਮੌਤ)", hi="रजिस्ट्रार (जन्म और मृत्यु)"
    ),
    "licensing-authority": LocalizedText(en="Licensing Authority", pa="ਲਾਇਸੈਂਸਿੰਗ ਅਥਾਰਟੀ", hi="लाइसेंसिंग प्राधिकारी"),
    "licensing-superintendent": LocalizedText(en="Licensing Superintendent", pa="ਲਾਇਸੈਂਸਿੰਗ ਸੁਪਰਡੈਂਟ", hi="लाइसेंसिंग अधीक्षक"),
    "sub-divisional-magistrate": LocalizedText(
        en="Sub-Divisional Magistrate", pa="ਉਪ-ਮੰਡਲ ਮੈਜਿਸਟਰੇਟ", hi="उप-मंडल मजिस्ट्रेट"
    ),
    "deputy-commissioner": LocalizedText(en="Deputy Commissioner", pa="ਡਿਪਟੀ ਕਮਿਸ਼ਨਰ", hi="उपायुक्त"),
}


def designation(role: str) -> LocalizedText:
    """``tehsildar`` → Tehsildar / ਤਹਿਸੀਲਦਾਰ; a role not listed here in English words only."""
    words = role.replace("-", " ").title()
    return DESIGNATIONS.get(role, LocalizedText(en=words, pa="", hi=""))
