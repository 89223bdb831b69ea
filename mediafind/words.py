"""Words as search compares them: folded (case and accents), split the way the keyword index
splits them, and without the little words that say nothing about what is looked for.

The keyword index (SQLite FTS5, unicode61 with remove_diacritics 2) and this module must agree:
`creme` finds `crème`, `IMG_2024-07-14_beach` holds the word `beach`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache

# Function words of the languages mediafind's presets read well (English, French, German,
# Spanish, Italian, Portuguese, Dutch). A query word in this list says nothing about what is
# looked for ("a purple elephant" must not match every caption holding "a"); a query made of
# these words alone keeps them all.
STOPWORDS = frozenset(
    # One language a line reads better than 300 quoted words a line each.
    """
    a an and any are as at be been but by can could did do does for from had has have he her
    his how i if in into is it its me my no not of on or our she so than that the their them
    then there these they this those to too us was we were what when where which who why will
    with would you your
    au aux avec ce ces dans de des du elle en et eux il ils je la le les leur lui ma mais me
    mes moi mon ne nos notre nous on ou par pas pour qu que qui sa se ses son sur ta te tes toi
    ton tu un une vos votre vous est sont été
    aber als am an auch auf aus bei bin bis das dass dem den der des die ein eine einem einen
    einer eines er es für hat ich ihr im in ist ja kein mit nach nicht noch nur oder sich sie
    sind so um und uns von vor war wie wir zu zum zur
    al con como del el en es ella ellos esta este hay la las le lo los mas me mi no nos o para
    pero por que se sin su sus te tu un una uno y ya
    agli ai alla alle allo che chi con da dei del della delle di e gli ha ho il in io la le lei
    lo lui ma mi ne nel nella non per più quello questo se si sono su tra un una uno
    ao aos as com da das de do dos e ela ele em era foi isso mais mas na nas no nos o os ou
    para pela pelo por que se sem seu sua são tem um uma
    aan als bij dat de die dit een en er het hij ik in is je met niet of om op te van voor was
    wat we wie zij zijn
    """.split()  # noqa: SIM905
)

# Letters and digits; the underscore separates, as it does in the keyword index.
_WORD = re.compile(r"[^\W_]+")


def fold(text: str) -> str:
    """Lower case without accents: 'Crème Brûlée' -> 'creme brulee'."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


# A search folds the same passages twice (to count the query's words, then to see whether they
# stand together) and the same passages again for the next query typed.
@lru_cache(maxsize=8192)
def tokens(text: str) -> tuple[str, ...]:
    """The words of text, folded, in order: what the keyword index holds for it."""
    return tuple(_WORD.findall(fold(text)))


def content_words(words: Iterable[str]) -> list[str]:
    """The words of a query that say what is looked for: folded, without stopwords (all of
    them when every one is a stopword), each once, in order."""
    found = list(dict.fromkeys(t for word in words for t in tokens(word)))
    meaningful = [t for t in found if t not in STOPWORDS]
    return meaningful or found
