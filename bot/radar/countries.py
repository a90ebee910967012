"""Countries: the ISO codes and names people type, their flags, and the region each is in.

`parse_country` reads what a user typed ("CN", "china", "Chinese", "🇨🇳"); `flag` and
`country_name` say a code back; `region_for_country` puts it in ATOM's buckets (us, china,
eu = Europe, other). The lab registry and the words for countries (`bot.radar.vocabulary`)
both build on these.
"""

from __future__ import annotations

from bot.radar.models import Region

# A lab of unknown country belongs to "the rest of the world", as on the scoreboard.
UNKNOWN_FLAG = "🌐"
# Codes people use that are not ISO 3166 countries but have a flag and a name.
_EXTRA_NAMES = {"EU": "European Union"}
_CODE_ALIASES = {"UK": "GB"}

# ISO 3166-1 alpha-2 codes with short English names (the names people type and read).
_ISO_TABLE = """
AD Andorra|AE United Arab Emirates|AF Afghanistan|AG Antigua and Barbuda|AI Anguilla
AL Albania|AM Armenia|AO Angola|AQ Antarctica|AR Argentina|AS American Samoa|AT Austria
AU Australia|AW Aruba|AX Åland Islands|AZ Azerbaijan|BA Bosnia and Herzegovina|BB Barbados
BD Bangladesh|BE Belgium|BF Burkina Faso|BG Bulgaria|BH Bahrain|BI Burundi|BJ Benin
BL Saint Barthélemy|BM Bermuda|BN Brunei|BO Bolivia|BQ Caribbean Netherlands|BR Brazil
BS Bahamas|BT Bhutan|BV Bouvet Island|BW Botswana|BY Belarus|BZ Belize|CA Canada
CC Cocos (Keeling) Islands|CD DR Congo|CF Central African Republic|CG Republic of the Congo
CH Switzerland|CI Côte d'Ivoire|CK Cook Islands|CL Chile|CM Cameroon|CN China|CO Colombia
CR Costa Rica|CU Cuba|CV Cape Verde|CW Curaçao|CX Christmas Island|CY Cyprus|CZ Czechia
DE Germany|DJ Djibouti|DK Denmark|DM Dominica|DO Dominican Republic|DZ Algeria|EC Ecuador
EE Estonia|EG Egypt|EH Western Sahara|ER Eritrea|ES Spain|ET Ethiopia|FI Finland|FJ Fiji
FK Falkland Islands|FM Micronesia|FO Faroe Islands|FR France|GA Gabon|GB United Kingdom
GD Grenada|GE Georgia|GF French Guiana|GG Guernsey|GH Ghana|GI Gibraltar|GL Greenland
GM Gambia|GN Guinea|GP Guadeloupe|GQ Equatorial Guinea|GR Greece
GS South Georgia and the South Sandwich Islands|GT Guatemala|GU Guam|GW Guinea-Bissau
GY Guyana|HK Hong Kong|HM Heard Island and McDonald Islands|HN Honduras|HR Croatia|HT Haiti
HU Hungary|ID Indonesia|IE Ireland|IL Israel|IM Isle of Man|IN India
IO British Indian Ocean Territory|IQ Iraq|IR Iran|IS Iceland|IT Italy|JE Jersey|JM Jamaica
JO Jordan|JP Japan|KE Kenya|KG Kyrgyzstan|KH Cambodia|KI Kiribati|KM Comoros
KN Saint Kitts and Nevis|KP North Korea|KR South Korea|KW Kuwait|KY Cayman Islands
KZ Kazakhstan|LA Laos|LB Lebanon|LC Saint Lucia|LI Liechtenstein|LK Sri Lanka|LR Liberia
LS Lesotho|LT Lithuania|LU Luxembourg|LV Latvia|LY Libya|MA Morocco|MC Monaco|MD Moldova
ME Montenegro|MF Saint Martin|MG Madagascar|MH Marshall Islands|MK North Macedonia|ML Mali
MM Myanmar|MN Mongolia|MO Macao|MP Northern Mariana Islands|MQ Martinique|MR Mauritania
MS Montserrat|MT Malta|MU Mauritius|MV Maldives|MW Malawi|MX Mexico|MY Malaysia
MZ Mozambique|NA Namibia|NC New Caledonia|NE Niger|NF Norfolk Island|NG Nigeria
NI Nicaragua|NL Netherlands|NO Norway|NP Nepal|NR Nauru|NU Niue|NZ New Zealand|OM Oman
PA Panama|PE Peru|PF French Polynesia|PG Papua New Guinea|PH Philippines|PK Pakistan
PL Poland|PM Saint Pierre and Miquelon|PN Pitcairn Islands|PR Puerto Rico|PS Palestine
PT Portugal|PW Palau|PY Paraguay|QA Qatar|RE Réunion|RO Romania|RS Serbia|RU Russia
RW Rwanda|SA Saudi Arabia|SB Solomon Islands|SC Seychelles|SD Sudan|SE Sweden|SG Singapore
SH Saint Helena|SI Slovenia|SJ Svalbard and Jan Mayen|SK Slovakia|SL Sierra Leone
SM San Marino|SN Senegal|SO Somalia|SR Suriname|SS South Sudan|ST São Tomé and Príncipe
SV El Salvador|SX Sint Maarten|SY Syria|SZ Eswatini|TC Turks and Caicos Islands|TD Chad
TF French Southern Territories|TG Togo|TH Thailand|TJ Tajikistan|TK Tokelau|TL Timor-Leste
TM Turkmenistan|TN Tunisia|TO Tonga|TR Türkiye|TT Trinidad and Tobago|TV Tuvalu|TW Taiwan
TZ Tanzania|UA Ukraine|UG Uganda|UM U.S. Minor Outlying Islands|US United States|UY Uruguay
UZ Uzbekistan|VA Vatican City|VC Saint Vincent and the Grenadines|VE Venezuela
VG British Virgin Islands|VI U.S. Virgin Islands|VN Vietnam|VU Vanuatu
WF Wallis and Futuna|WS Samoa|XK Kosovo|YE Yemen|YT Mayotte|ZA South Africa|ZM Zambia
ZW Zimbabwe
"""

COUNTRY_NAMES: dict[str, str] = dict(
    (entry.strip()[:2], entry.strip()[3:])
    for line in _ISO_TABLE.strip().splitlines()
    for entry in line.split("|")
    if entry.strip()
)

# What people type besides ISO codes and the names above: adjectives, old names,
# abbreviations. Keys are normalised (lower case, single spaces).
_COUNTRY_WORDS: dict[str, str] = {
    "america": "US",
    "american": "US",
    "usa": "US",
    "united states of america": "US",
    "the united states": "US",
    "chinese": "CN",
    "prc": "CN",
    "mainland china": "CN",
    "people's republic of china": "CN",
    "peoples republic of china": "CN",
    "uk": "GB",
    "britain": "GB",
    "great britain": "GB",
    "british": "GB",
    "england": "GB",
    "scotland": "GB",
    "wales": "GB",
    "french": "FR",
    "german": "DE",
    "deutschland": "DE",
    "swiss": "CH",
    "italian": "IT",
    "spanish": "ES",
    "dutch": "NL",
    "holland": "NL",
    "the netherlands": "NL",
    "belgian": "BE",
    "austrian": "AT",
    "swedish": "SE",
    "finnish": "FI",
    "danish": "DK",
    "norwegian": "NO",
    "polish": "PL",
    "portuguese": "PT",
    "irish": "IE",
    "czech": "CZ",
    "czech republic": "CZ",
    "greek": "GR",
    "hungarian": "HU",
    "romanian": "RO",
    "estonian": "EE",
    "latvian": "LV",
    "lithuanian": "LT",
    "luxembourgish": "LU",
    "slovak": "SK",
    "slovenian": "SI",
    "croatian": "HR",
    "bulgarian": "BG",
    "icelandic": "IS",
    "ukrainian": "UA",
    "russian": "RU",
    "russian federation": "RU",
    "turkish": "TR",
    "turkey": "TR",
    "korea": "KR",
    "korean": "KR",
    "south korean": "KR",
    "republic of korea": "KR",
    "rok": "KR",
    "north korean": "KP",
    "japanese": "JP",
    "taiwanese": "TW",
    "hong kong sar": "HK",
    "singaporean": "SG",
    "indian": "IN",
    "vietnamese": "VN",
    "viet nam": "VN",
    "thai": "TH",
    "indonesian": "ID",
    "malaysian": "MY",
    "filipino": "PH",
    "pakistani": "PK",
    "israeli": "IL",
    "uae": "AE",
    "emirates": "AE",
    "emirati": "AE",
    "saudi": "SA",
    "ksa": "SA",
    "qatari": "QA",
    "egyptian": "EG",
    "canadian": "CA",
    "mexican": "MX",
    "brazilian": "BR",
    "argentinian": "AR",
    "argentine": "AR",
    "chilean": "CL",
    "colombian": "CO",
    "australian": "AU",
    "new zealander": "NZ",
    "south african": "ZA",
    "nigerian": "NG",
    "kenyan": "KE",
}

EU_MEMBER_STATES = frozenset(
    {
        "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE",
        "IT", "LV", "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE",
    }
)  # fmt: skip
# Non-EU European countries that ATOM's "eu" bucket also covers (it means Europe).
_OTHER_EUROPE = frozenset({"CH", "GB", "NO", "IS", "LI"})



def _normalise_words(text: str) -> str:
    """Lower case, no dots, dashes/underscores as spaces: "U.S.A." -> "usa"."""
    spaced = text.replace(".", "").replace("_", " ").replace("-", " ")
    return " ".join(spaced.split()).lower()


_NAME_TO_CODE: dict[str, str] = {
    **{_normalise_words(name): code for code, name in COUNTRY_NAMES.items()},
    **{_normalise_words(word): code for word, code in _COUNTRY_WORDS.items()},
}


def _code_from_flag(text: str) -> str | None:
    """Two regional-indicator symbols (a flag emoji) spell an ISO code."""
    letters = [ord(char) - 0x1F1E6 for char in text]
    if len(letters) == 2 and all(0 <= value < 26 for value in letters):
        return "".join(chr(ord("A") + value) for value in letters)
    return None


def parse_country(text: str) -> str | None:
    """Read what a user typed for a country ("CN", "china", "Chinese", "🇨🇳") as an ISO code.

    Returns None when we do not recognise it, so callers can say so instead of guessing.
    """
    cleaned = text.strip().strip(",;:!?")
    if not cleaned:
        return None
    from_flag = _code_from_flag(cleaned)
    if from_flag is not None:
        return from_flag if from_flag in COUNTRY_NAMES else None
    compact = cleaned.replace(".", "")
    if len(compact) == 2 and compact.isascii() and compact.upper() in COUNTRY_NAMES:
        return compact.upper()
    words = _normalise_words(cleaned)
    if words in _NAME_TO_CODE:
        return _NAME_TO_CODE[words]
    if words.startswith("the ") and words[4:] in _NAME_TO_CODE:
        return _NAME_TO_CODE[words[4:]]
    return None


def region_for_country(code: str | None) -> Region:
    """Map a country to the ATOM-style bucket used in scoreboards.

    ATOM labels its European bucket "eu", but it means Europe, not the European Union:
    Swiss, British and Norwegian labs (Apertus, Stability AI) are counted there. We do the
    same, so EU member states plus CH/GB/NO/IS/LI are `eu`; everything that is neither the
    US nor China (Canada, Israel, Korea, the UAE …) and unknown countries are `other`.
    """
    if not code:
        return Region.OTHER
    code = code.upper()
    if code == "US":
        return Region.US
    if code == "CN":
        return Region.CHINA
    if code in EU_MEMBER_STATES or code in _OTHER_EUROPE:
        return Region.EU
    return Region.OTHER


def _known_code(code: str | None) -> str | None:
    upper = (code or "").strip().upper()
    upper = _CODE_ALIASES.get(upper, upper)
    return upper if upper in COUNTRY_NAMES or upper in _EXTRA_NAMES else None


def flag(code: str | None) -> str:
    """The flag emoji for a country code ("EU" too); a globe when we do not know it."""
    known = _known_code(code)
    if known is None:
        return UNKNOWN_FLAG
    return "".join(chr(0x1F1E6 + ord(letter) - ord("A")) for letter in known)


def country_name(code: str | None) -> str:
    """A readable country name; the code itself when it is not a code we know."""
    if not code:
        return "unknown country"
    known = _known_code(code)
    if known is None:
        return code.strip().upper()
    return COUNTRY_NAMES.get(known) or _EXTRA_NAMES[known]
