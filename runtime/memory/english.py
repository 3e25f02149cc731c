"""English irregular verbs for keyword search: a question's "meet" and a message's "met" meet.

SQLite's porter stemmer joins regular forms (research, researched, researching) but cannot
know that "broke" is "break", "bought" "buy" or "taught" "teach": questions ask in the base
form ("What did Tamsin break on moving day?") while people tell in the past ("I broke my
mirror"). Each past form and participle here is indexed and searched with its base verb too.
"""

from __future__ import annotations

_FORMS = """
arise arose arisen|awake awoke awoken|be was were been|bear bore borne|beat beaten|
become became|begin began begun|bend bent|bet|bite bit bitten|bleed bled|blow blew blown|
break broke broken|breed bred|bring brought|build built|burn burnt|buy bought|catch caught|
choose chose chosen|come came|cost|creep crept|cut|deal dealt|dig dug|do did done|draw drew drawn|
dream dreamt|drink drank drunk|drive drove driven|eat ate eaten|fall fell fallen|feed fed|
feel felt|fight fought|find found|flee fled|fly flew flown|forbid forbade forbidden|
forget forgot forgotten|forgive forgave forgiven|freeze froze frozen|get got gotten|
give gave given|go went gone|grind ground|grow grew grown|hang hung|have had|hear heard|
hide hid hidden|hit|hold held|hurt|keep kept|kneel knelt|know knew known|lay laid|lead led|
leap leapt|learn learnt|leave left|lend lent|let|lie lay lain|light lit|lose lost|make made|
mean meant|meet met|overcome overcame|pay paid|prove proven|put|quit|read|ride rode ridden|
ring rang rung|rise rose risen|run ran|say said|see saw seen|seek sought|sell sold|send sent|
set|sew sewn|shake shook shaken|shine shone|shoot shot|show shown|shrink shrank shrunk|shut|
sing sang sung|sink sank sunk|sit sat|sleep slept|slide slid|speak spoke spoken|speed sped|
spend spent|spill spilt|spin spun|spit spat|split|spread|spring sprang sprung|stand stood|
steal stole stolen|stick stuck|sting stung|stink stank stunk|strike struck|swear swore sworn|
sweep swept|swim swam swum|swing swung|take took taken|teach taught|tear tore torn|tell told|
think thought|throw threw thrown|understand understood|upset|wake woke woken|wear wore worn|
weave wove woven|weep wept|win won|wind wound|withdraw withdrew withdrawn|write wrote written
"""

BASE_FORM: dict[str, str] = {
    form: forms.split()[0]
    for forms in _FORMS.replace("\n", "").split("|")
    for form in forms.split()[1:]
}
"""Irregular past form or participle → base verb ("broke" → "break")."""


def base_form(word: str) -> str | None:
    """The base verb of an irregular past form (lower case), or None."""
    return BASE_FORM.get(word)
