"""One analysis of the question, computed once and read by every step after it.

``analyze`` reads the wording with rules: what *form* of answer is asked for
(yes/no, one of two options, a count, a number, text read in the image, an
attribute, a position, a place, a name, a comparison, an option letter, or free
text), the things named (``targets``, mapped to detector classes where one exists
and kept as plain nouns where none does), the relation phrase *between* two of
them, and whether the answer needs text in the image or knowledge the image does
not hold. Where no rule is sure (``sure=False``), a graph may ask an LLM under a
JSON schema and keep its form only when it passes ``accept_form``.

The rules work on a cleaned copy of the question: politeness ("can you tell
me"), references to the picture itself ("in this photo") and positions in the
picture ("on the left") are taken out first, so "Is the dog in the photo on the
left of the cat?" relates the dog to the cat by ``left_of``, not by ``inside``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from agentvlm.question.relations import RELATION_PHRASES, UNDECIDABLE_PHRASES, find_relations
from agentvlm.question.vocabulary import canonical, label_spans

__all__ = [
    "ATTRIBUTES",
    "FORMS",
    "TEXT_BEARING",
    "Attribute",
    "Form",
    "Question",
    "Target",
    "accept_form",
    "analyze",
]

Form = Literal[
    "yes_no", "alternative", "count", "number", "read", "attribute", "position", "place", "identify",
    "compare", "choice", "open",
]  # fmt: skip
Attribute = Literal["color", "size", "shape", "material", "state"]
TextNeed = Literal["needed", "maybe", "irrelevant"]
FORMS: tuple[str, ...] = Form.__args__  # type: ignore[attr-defined]
ATTRIBUTES: tuple[str, ...] = Attribute.__args__  # type: ignore[attr-defined]

# Things people name that carry writing: OCR text blocks stand for them as regions.
TEXT_BEARING: frozenset[str] = frozenset({
    "sign", "label", "menu", "poster", "screen", "page", "board", "banner", "plate", "notice", "placard",
    "billboard", "whiteboard", "blackboard", "chalkboard", "receipt", "ticket", "display", "note", "card",
    "newspaper", "magazine", "cover", "signboard", "signpost", "noticeboard", "text", "writing", "word",
    "words", "letter", "letters", "number", "numbers", "caption", "title", "headline", "logo", "sticker",
    "tag", "plaque", "shopfront", "storefront", "fascia", "packaging", "package", "box", "bottle label",
    "price", "prices", "timetable", "schedule", "map", "document", "paper", "book", "envelope",
})  # fmt: skip


class Target(BaseModel):
    """One thing the question names.

    Attributes:
        phrase: The words that name it, modifiers included ("red car on the left").
        noun: Its head noun, singular and lower case ("car", "saucer").
        label: The detector class it maps to, or ``None`` when no detector class names it.
        text_bearing: Whether it is a thing that carries writing (a sign, a menu), which
            OCR text blocks can stand for.
        modifiers: What narrows it down: adjectives, positions, "with the umbrella".
    """

    model_config = ConfigDict(frozen=True)

    phrase: str
    noun: str
    label: str | None = None
    text_bearing: bool = False
    modifiers: list[str] = Field(default_factory=list)


class Question(BaseModel):
    """What the question asks, in a form code can act on.

    Attributes:
        text: The question as asked.
        form: The form the answer must take.
        options: For ``alternative`` and ``compare``: the options, in question order.
        choices: For ``choice``: the given options (answered by letter).
        attribute: Which attribute an ``attribute`` question (or a yes/no check) is about.
        value: What a yes/no question checks: a colour ("red"), a word the text should hold.
        number: The number a yes/no question checks ("Are there three cars?" -> 3).
        position: The picture position a question names for its subject ("on the left" -> left).
        targets: The things named, subject first when a relation joins two.
        relation: The relation between ``targets[0]`` and ``targets[1]`` (``left_of``...),
            ``undecidable`` for one no box test decides (facing, parallel), else ``None``.
        relation_phrase: The words that said it ("to the left of").
        text: Whether text in the image is needed, may help, or is surely irrelevant.
        needs_knowledge: The answer needs facts the image does not hold.
        exhaustive: Every instance matters (counting, "all the cars").
        reads_end: A ``read`` question asks for the end of a range the image states (the
            closing time of "7AM-3PM"), not its start.
        unchecked: Words that say something of what the question names which no box or
            count checks: a state ("flying"), a part ("'s nose"), a narrowing ("wearing
            sunglasses", "red" in "the red car"). A program that finds the named class
            answers a question about all of it, not about these.
        sure: Whether a rule decided the form (``False``: a fallback guess).
        source: ``rules``, or ``llm`` when a model chose the form.
    """

    model_config = ConfigDict(frozen=True)

    text: str
    form: Form
    options: list[str] = Field(default_factory=list)
    choices: list[str] = Field(default_factory=list)
    attribute: Attribute | None = None
    value: str = ""
    number: int | None = None
    position: str | None = None
    targets: list[Target] = Field(default_factory=list)
    relation: str | None = None
    relation_phrase: str | None = None
    text_need: TextNeed = "maybe"
    needs_knowledge: bool = False
    exhaustive: bool = False
    reads_end: bool = False
    unchecked: list[str] = Field(default_factory=list)
    sure: bool = True
    source: Literal["rules", "llm"] = "rules"

    @property
    def labels(self) -> list[str]:
        """Detector classes of the targets, once each, in order."""
        return list(dict.fromkeys(t.label for t in self.targets if t.label))

    @property
    def unseen(self) -> list[Target]:
        """Targets no tool can find: no detector class and nothing written on them."""
        return [t for t in self.targets if t.label is None and not t.text_bearing]

    def brief(self) -> str:
        """One line for traces: ``yes_no(cup) relation=above(sign, cup) text=maybe``."""
        parts = [f"{self.form}({', '.join(t.label or t.noun for t in self.targets)})"]
        if self.options:
            parts.append("options=" + "|".join(self.options))
        if self.attribute:
            parts.append(f"attribute={self.attribute}")
        if self.relation:
            parts.append(f"relation={self.relation}")
        if self.position:
            parts.append(f"position={self.position}")
        if self.value:
            parts.append(f"value={self.value}")
        if self.number is not None:
            parts.append(f"number={self.number}")
        parts.append(f"text={self.text_need}")
        if self.needs_knowledge:
            parts.append("knowledge")
        if not self.sure:
            parts.append("unsure")
        return " ".join(parts)


_AUX = (
    r"is|are|was|were|am|does|do|did|can|could|has|have|had|will|would|should|shall|may|might|must|"
    r"isn't|aren't|wasn't|weren't|doesn't|don't|didn't|can't|couldn't|hasn't|haven't|won't|wouldn't"
)
_YES_NO_START = re.compile(rf"^(?:{_AUX})\b", re.IGNORECASE)
_PREFIXES = re.compile(
    r"^(?:(?:please|pls|kindly|hey|hi|ok|okay|so|now|and|also|quick question)\b[,:]?\s*)*"
    r"(?:(?:can|could|would|will) you(?: please)? (?:tell me|say|let me know|check|find out|work out)|"
    r"tell me|let me know|i(?:'d| would) like to know|i want to know|i wonder|i'm wondering|do you know|"
    r"any idea|check|find out|work out|figure out|guess|would you say|do you think|would you agree|is it true)\b[,:]?\s*",
    re.IGNORECASE,
)
_EMBEDDED_YES_NO = re.compile(r"^(?:if|whether)\b\s*", re.IGNORECASE)
_IMAGE_WORDS = r"photo(?:graph)?s?|pictures?|images?|pics?|scenes?|frames?|shots?|snapshots?|views?"
_IMAGE_REF = re.compile(
    rf"\b(?:in|of|on|from|within|inside|across|into)\s+(?:this|the|that|these|our|your)\s+(?:{_IMAGE_WORDS})\b"
    rf"|\b(?:this|the|that)\s+(?:{_IMAGE_WORDS})\s+(?:shows?|of)\b",
    re.IGNORECASE,
)
_POSITION_WORDS = r"left|right|top|bottom|middle|center|centre|upper left|upper right|lower left|lower right|" \
    r"top left|top right|bottom left|bottom right|top-left|top-right|bottom-left|bottom-right|foreground|background"
_POSITION = re.compile(
    rf"\b(?:on|at|to|in|towards?|near)\s+(?:the\s+)?(?:very\s+|far\s+)?(?P<where>{_POSITION_WORDS})"
    r"(?!(?:[\s-]+(?:hand\s+)?(?:side|corner|half|part|edge|end|area|region))?\s+of\s+(?!(?:the\s+)?(?:"
    + _IMAGE_WORDS + r")\b))(?:[\s-]+(?:hand\s+)?(?:side|corner|half|part|edge|end|area|region))?\b",
    re.IGNORECASE,
)
_MODIFIER_PHRASE = re.compile(
    r"\b(?:with|wearing|carrying|in)\s+(?:a|an|the|his|her|their|its|some)?\s*"
    r"(?:(?:red|blue|green|yellow|black|white|grey|gray|brown|pink|purple|orange|dark|light|striped|long|short|big|small)\s+)*"
    r"(?:shirt|t-shirt|jacket|coat|hat|cap|dress|skirt|sweater|jumper|hoodie|jeans|trousers|pants|shorts|uniform|"
    r"helmet|glasses|sunglasses|suit|scarf|shoes|boots|vest|top|black|white|red|blue|green|yellow|grey|gray)\b",
    re.IGNORECASE,
)
_WITH_PHRASE = re.compile(r"\bwith\s+(?:a|an|the|his|her|their|its|some|two|three)\s+[\w-]+(?:\s+[\w-]+)?", re.IGNORECASE)
_COUNT = re.compile(
    r"\bhow\s+many\b|\b(?:the\s+)?(?:total\s+)?number\s+of\b|\bcount(?:ing)?\b(?!\s*(?:down|on)\b)|\bhow\s+much\s+\w+\s+are\s+there\b",
    re.IGNORECASE,
)
_PLACE = re.compile(
    r"\bwhere\s+(?:was|were|is|are|has|have|might|could|would|do you think)\s+(?:this|these|that|the|it|we|they)?\s*"
    rf"(?:(?:{_IMAGE_WORDS})\s+)?(?:been\s+)?(?:taken|shot|photographed|captured|filmed|made)\b"
    r"|^where\s+(?:is|was)\s+(?:this|that|it)\s*(?:place)?\s*[?.!]*$|^where\s+are\s+(?:we|they|you|these people)\b"
    r"|\bwhat\s+(?:kind|type|sort)\s+of\s+(?:place|room|location|setting|scene|area|environment|building|establishment|shop|store|"
    r"venue|street|space|landscape|restaurant|park|neighbou?rhood|cafe|café|bar|market|road|town|city|beach|garden)\b"
    r"(?=\s+(?:is|are|was|were|do|does|this|that|these|those|would|could|might)\b|\s*[?.!,]|\s*$)"
    r"|^(?:which|what)\s+(?:city|town|country|village|region)\b(?!'s)"
    r"|\bwhat\s+(?:place|room|location|setting|city|town|country|venue|environment|neighbou?rhood)\b(?!'s)"
    r"|\bwhat(?:'s| is)\s+this\s+(?:place|venue|room|location)\b|\bwhich\s+room\b"
    r"|\b(?:which|what)\s+(?:part of (?:the )?(?:house|town|city|world))\b|\bwhat\s+is\s+the\s+(?:setting|location|place)\b"
    r"|\bin what (?:kind of )?(?:place|room|setting|location)\b|\bwhere\s+(?:is|was)\s+this\b(?!\s+\w+\s+(?:located|placed))",
    re.IGNORECASE,
)
_NUMBER = re.compile(
    r"\bhow\s+much\b(?!\s+of\s+the\s+(?:image|picture|photo))|\b(?:total|sum|subtotal|difference|product)\b|"
    r"\bhow\s+(?:old|far|long|heavy|fast|expensive|cheap|much)\b|\bwhat\s+(?:is|'s|was)\s+\d|"
    r"\b(?:plus|minus|times|divided by|multiplied by)\b|\bsolve\b|\bcalculate\b|\bwork out\b|\bwhat\s+percentage\b|"
    r"\bwhat\s+(?:is|'s)\s+(?:the\s+)?(?:price|cost|fare|fee|charge)\b|\bhow\s+much\s+(?:is|are|does|do|for|would|will)\b|"
    r"\bwhat\s+(?:is|'s)\s+[a-z]\s*[?]|\bwhat\s+does\s+[a-z]\s+equal\b|\bwhat\s+(?:does|do|would)\s+.*\bcost\b|\bin total\b|"
    r"\baverage\b|\bcome to\b|\bresult of\b|\bequation\b|\bin (?:met(?:re|er)s|feet|inches|centimet(?:re|er)s|km|miles)\b",
    re.IGNORECASE,
)
_COMPARATIVE = re.compile(
    r"\b(?:(?:big|larg|small|tall|short|long|wid|narrow|clos|near|high|low|old|young|new|heav|light|dark|"
    r"bright|cheap|fast|slow|thick|thin|fat|hot|cold|warm|cool|deep|full|empt|dirt|clean|happ|pretty|nic|"
    r"easi|hard|soft|strong|tin|hug)(?:g?er|g?est|ier|iest|r|st)|more|most|less|least|fewer|fewest|further|"
    r"furthest|farther|farthest|better|best|worse|worst)\b",
    re.IGNORECASE,
)
_READ = re.compile(
    r"\bwhat\s+(?:does|do|did|is|'s)\s+.*\b(?:say|says|said|read|reads|spell|spells|show|shows)\b\s*[?.!]*$|"
    r"\bwhat\s+(?:the|this|that|it)\b.*\b(?:says|said|reads|spells)\b|"
    r"\b(?:written|printed|displayed|painted|engraved|typed|inscribed|labell?ed)\b|\bread\b|\breading\b|"
    r"\bwhat\s+(?:text|words?|letters?|message|brand|title|headline|slogan|caption)\b|"
    r"\bwhich\s+(?:\w+\s+)?number\b|"
    r"\bwhat(?:'s| is| are| was)\s+the\s+(?:\w+\s+)?(?:name|title|brand|text|words?|message|slogan|headline|caption|number|time|"
    r"address|phone number|website|date|year|code|licen[cs]e plate|registration|plate number|route)\b|"
    r"\bwhat\s+(?:is|'s|are)\s+(?:it|this|that|the \w+)\s+called\b|\b(?:called|named)\s*[?.!]*$|"
    r"\bwhat\s+time\b|\bwhen\s+(?:does|do|is|will|did)\b.*\b(?:open|close|closes|opens|start|starts|end|ends|leave|leaves|"
    r"arrive|arrives|come|comes|depart|departs|shut|shuts|finish|finishes)\b|\b(?:opening|closing)\s+(?:hours|times?)\b|"
    r"\b(?:until|till)\s+when\b|\bhow\s+late\b.*\b(?:open|serving|run|runs|last)\b|\bwhat\s+(?:number|letter|word|date|year|day|route|code)\b|"
    r"\blicen[cs]e\s+plate\b|\bphone\s+number\b|\bwebsite\b|\bwhich\s+(?:number|letter|word|route|bus)\b|\bwhat\s+name\b|"
    r"\bwhat\s+(?:is|'s|are)\s+(?:on|in)\s+the\s+(?:sign|label|menu|poster|screen|board|banner|plate|notice|page|display)\b",
    re.IGNORECASE,
)
_ATTRIBUTE: tuple[tuple[Attribute, re.Pattern[str]], ...] = (
    ("color", re.compile(r"\bcolou?rs?\b|\bcolou?red\b|\bshade\b|\bhue\b", re.IGNORECASE)),
    ("material", re.compile(r"\bmade\s+(?:of|from|out of)\b|\bmaterial\b|\bbuilt\s+(?:of|from|out of|with)\b|\bpaved\s+with\b|"
                            r"\bcovered\s+(?:in|with)\b", re.IGNORECASE)),
    ("shape", re.compile(r"\bshapes?d?\b", re.IGNORECASE)),
    ("size", re.compile(r"\bwhat\s+size\b|\bhow\s+(?:big|large|small|tall|long|wide|high|thick|deep)\b|\bsize\s+of\b", re.IGNORECASE)),
    ("state", re.compile(r"\bhow\s+(?:full|empty|clean|dirty|old|new|wet|dry|bright|dark|busy|crowded)\b|\bwhat\s+(?:state|condition)\b|\bin\s+what\s+(?:state|condition)\b|\bwhat\s+pattern\b|\bwhat\s+texture\b", re.IGNORECASE)),
)
_WHERE_IN_IMAGE = re.compile(
    rf"^where\b|\bwhich\s+(?:side|part|corner|half|area|region)\b|\bwhere\s+in\s+the\s+(?:{_IMAGE_WORDS})\b|"
    r"\bin\s+which\s+(?:part|corner|half|side|area)\b|\bwhat\s+(?:side|part|corner)\b|\bwhere\s+(?:is|are)\b|"
    r"\bwhere\s*(?:exactly|abouts)\b",
    re.IGNORECASE,
)
_IDENTIFY = re.compile(
    r"^(?:who|whom|whose)\b|^what\s+(?:is|'s|are|was|were)\s+(?:this|that|it|these|those|shown|pictured|visible)\b|"
    r"^what\s+(?:kind|type|sort|breed|species|make|model|brand|animal|vehicle|fruit|food|object|thing|item|sport|game|"
    r"dish|drink|instrument|bird|dog|cat|flower|plant|tree|car|animals|vehicles|objects|things|items)\b|"
    r"\b(?:doing|holding|eating|wearing|carrying|riding|playing|drinking|using|reading|watching|pulling|pushing|"
    r"throwing|catching|sitting on|standing on|lying on|looking at)\s*[?.!]*$|"
    r"^(?:which|what)\s+\w+\s+(?:is|are)\s+(?:this|that|shown|there|pictured|in)\b|^what\s+(?:is|'s|are)\s+(?:on|in|under|behind|next to|inside|at)\b|"
    r"^name\b|^identify\b|^what\s+(?:is|'s|are)\s+(?:the|a|an)\s+[\w\s-]+\??$",
    re.IGNORECASE,
)
_OPEN = re.compile(
    r"^(?:why|how|describe|explain|summari[sz]e|what\s+(?:is|'s|are)\s+(?:happening|going on)|what\s+(?:is|are)\s+\w+\s+doing\s+here)\b|"
    r"^(?:can|could|would)\s+you\s+(?:describe|explain|summari[sz]e)\b|\bgoing on\b|\bhappen(?:s|ed|ing)?\s+next\b|\bcould happen\b|"
    r"\bmood\b|\bstory\b|\bfeel(?:ing)?\b|\batmosphere\b",
    re.IGNORECASE,
)
_KNOWLEDGE = re.compile(
    r"\bwho\s+(?:painted|founded|built|designed|wrote|invented|made|owns|discovered|created|composed|directed|"
    r"sang|played|is the (?:author|painter|artist|founder|president|owner|architect|designer))\b|"
    r"\b(?:which|what)\s+(?:painter|artist|author|writer|architect|composer|company|year|century|decade|country|"
    r"nationality|language|president|king|queen|team|university)\b(?!\s+is\s+(?:written|shown))|"
    r"\bwhen\s+was\s+.*\b(?:built|founded|made|opened|established|painted|written|invented|launched|born|created|constructed)\b|"
    r"\bhow\s+old\s+is\s+the\s+(?:building|church|bridge|castle|town|city|company|shop|brand|painting|tower|house|park)\b|"
    r"\bhistory\b|\bfamous\s+for\b|\bknown\s+for\b|\bcapital\s+of\b|\bpopulation\b|\bstand\s+for\b|\bwhat\s+does\s+\w+\s+mean\b|"
    r"\baccording\s+to\s+(?:the\s+)?(?:web|internet|wikipedia)\b|\bnamed\s+(?:after|for)\b|\bwho\s+is\s+(?:this|that|he|she)\b|"
    r"\bwhat\s+(?:is|was)\s+.*\bnamed\s+after\b|\bwhat\s+is\s+the\s+(?:history|origin|meaning)\b|\bwhere\s+(?:does|do)\s+.*\bcome\s+from\b|"
    r"\bfamous\b|\b(?:built|made|founded|painted|opened)\s+(?:before|after|in)\s+\d{3,4}\b|\bflag\s+of\b|\bcountry's\s+flag\b|\bcalories\b|"
    r"\bhow\s+(?:would|do|does|can|should)\s+(?:you|i|one|we)\s+(?:make|cook|build|fix|use|prepare)\b|\bhow\s+does\s+.*\bwork\b|"
    r"^who\s+is\s+(?:the|this|that)\b|\bcost\s+new\b",
    re.IGNORECASE,
)
_TEXT_CUES = re.compile(
    r"\b(?:say|says|said|saying|read|reads|written|write|writing|text|word|words|letters?|brand|logo|title|named?|"
    r"called|numbers?|digits?|spell|spelled|caption|headline|prices?|cost|costs|menu|opens?|opening|closes?|closing|"
    r"hours|what time|schedule|timetable|date|year|website|phone|address|licen[cs]e|route|according to|"
    r"how much|total|equation|sum|cheap\w*|expensive|pricier|costl\w*|afford\w*)\b",
    re.IGNORECASE,
)
_NUMBER_WORDS = {
    "zero": 0, "no": 0, "one": 1, "a single": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "a couple of": 2, "a pair of": 2,
}  # fmt: skip
_COLOURS = (
    "black", "white", "gray", "grey", "red", "orange", "yellow", "green", "blue", "purple", "pink", "brown",
    "silver", "gold", "beige", "violet", "tan", "cream", "navy", "maroon", "turquoise",
)  # fmt: skip
_COLOUR_RE = re.compile(r"\b(" + "|".join(_COLOURS) + r")\b", re.IGNORECASE)
_COUNT_WORD = r"\d+|zero|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve"
_NUMBER_OPTIONS = re.compile(rf"\b(?P<a>{_COUNT_WORD})\s*(?:,\s*|\s+or\s+)(?:(?P<b>{_COUNT_WORD})\s*,?\s+or\s+)?(?P<c>{_COUNT_WORD})\b", re.IGNORECASE)
# What asks for the end of a range ("closes", "until when") and what for its start ("opens"): the first said decides.
_RANGE_END = re.compile(r"\b(?:clos(?:e|es|ed|ing)|shut(?:s|ting)?|until|till|end(?:s|ing)?|finish(?:es|ing)?|how\s+late|last)\b", re.IGNORECASE)
_RANGE_START = re.compile(r"\b(?:open(?:s|ing)?|start(?:s|ing)?|begin(?:s|ning)?|first|from)\b", re.IGNORECASE)
_STATE_WORDS = re.compile(
    r"\b(open|closed|shut|on|off|empty|full|lit|broken|wet|dry|clean|dirty|new|old|moving|parked|running|sitting|ripe|"
    r"whole|sliced|cut|cloudy|clear|sunny|raining|cooked|raw|fresh|melted|frozen|burning|"
    r"standing|lying|awake|asleep|sleeping|raised|lowered|folded|turned on|turned off|switched on|switched off)\s*[?.!]*$",
    re.IGNORECASE,
)
_SIZE_COMPARE = re.compile(r"\b(?:bigger|larger|smaller|taller|shorter|longer|wider)\s+than\b", re.IGNORECASE)
_SHAPE_WORDS = re.compile(r"\b(round|square|rectangular|circular|triangular|oval|octagonal|hexagonal)\b", re.IGNORECASE)
_SIZE_WORDS = re.compile(r"\b(big|large|small|tiny|huge|tall|short|long|wide|narrow)\s*[?.!]*$", re.IGNORECASE)
_MATERIALS = frozenset({
    "wood", "metal", "plastic", "glass", "leather", "ceramic", "stone", "brick", "paper", "cardboard", "steel",
    "concrete", "cotton", "wool", "silk", "gold", "silver", "iron", "marble", "fabric", "rubber", "porcelain",
})  # fmt: skip
_DETERMINERS = frozenset({
    "the", "a", "an", "this", "that", "these", "those", "any", "some", "each", "every", "his", "her", "their",
    "its", "my", "your", "our", "all", "both", "another", "two", "three", "four", "five", "six", "seven",
    "eight", "nine", "ten", "many", "several", "no", "of",
})  # fmt: skip
_STOP = frozenset({
    "is", "are", "was", "were", "be", "been", "being", "am", "do", "does", "did", "has", "have", "had", "can",
    "could", "will", "would", "should", "shall", "may", "might", "must", "and", "or", "but", "nor", "so",
    "if", "whether", "than", "then", "that", "which", "who", "whom", "whose", "what", "where", "when", "why",
    "how", "there", "here", "it", "its", "this", "these", "those", "they", "them", "he", "she", "him", "we",
    "you", "i", "me", "us", "to", "of", "in", "on", "at", "by", "for", "with", "from", "into", "onto", "over",
    "under", "above", "below", "behind", "near", "beside", "next", "between", "inside", "outside", "up",
    "down", "off", "out", "about", "around", "through", "across", "along", "against", "toward", "towards",
    "say", "says", "said", "read", "reads", "show", "shows", "look", "looks", "like", "see", "seen", "visible",
    "left", "right", "top", "bottom", "middle", "center", "centre", "side", "front", "back", "not", "any",
    "same", "cost", "costs", "made", "called", "named", "taken", "open", "opens", "close", "closes", "doing",
    "holding", "wearing", "carrying", "eating", "sitting", "standing", "lying", "parked", "written", "printed",
    "shown", "pictured", "hanging", "placed", "located", "facing", "looking", "waiting", "come", "comes",
    "according", "as", "very", "too", "also", "please", "really", "all", "both", "each", "every", "more",
    "most", "less", "fewer", "many", "much", "own", "one", "ones", "there's", "it's", "what's", "where's",
    "who's", "how's", "that's", "full", "empty", "either", "else", "exactly", "only", "just", "before", "after", "round", "square", "wooden", "ripe", "broken", "cloudy", "clear", "whole", "sliced",
})  # fmt: skip
_NOT_TARGETS = frozenset({
    "picture", "photo", "photograph", "image", "pic", "scene", "frame", "shot", "snapshot", "view", "camera",
    "one", "ones", "thing", "things", "side", "part", "way", "time", "kind", "type", "sort", "colour",
    "color", "shape", "size", "material", "name", "lot", "bit", "number", "total", "price", "cost", "amount",
    "answer", "question", "place", "room", "location", "setting", "corner", "half", "area", "region",
    "left", "right", "top", "bottom", "middle", "center", "centre", "foreground", "background", "day",
    "night", "daytime", "nighttime", "night-time", "weather", "season", "state", "condition", "pattern",
    "texture", "shade", "hue", "equation", "sum", "difference", "result", "rest", "others", "other",
    "indoors", "outdoors", "inside", "outside", "indoor", "outdoor", "here", "viewer",
    "title", "headline", "caption", "message", "slogan", "contact", "dollar", "euro", "pound", "cent", "minute",
    "hour", "second", "metre", "meter", "kilometre", "kilometer", "mile", "foot", "feet", "inch", "calory",
    "calorie", "percent", "degree", "litre", "gram", "kilo", "largest", "smallest", "biggest", "tallest",
    "closest", "nearest", "furthest", "farthest", "oldest", "youngest", "cheapest", "best", "worst", "most", "least",
})  # fmt: skip


_REL_WORDS = frozenset(p.split()[0] for p in [*RELATION_PHRASES, *UNDECIDABLE_PHRASES]) | {"contain", "hold", "have"}
_UNIT_COUNT = re.compile(
    r"\bhow\s+many\s+(?:more\s+)?(?:dollars|euros|pounds|pence|cents|yen|minutes|hours|seconds|days|weeks|months|years|"
    r"kilomet(?:re|er)s|km|miles|met(?:re|er)s|feet|inches|calories|percent|degrees|litres|liters|grams|kilos|kg|points)\b",
    re.IGNORECASE,
)
_ID_NUMBER = re.compile(
    r"\b(?:plate|jersey|shirt|phone|telephone|house|route|bus|gate|room|serial|model|flight|platform|track|page|seat|"
    r"street|door|building|car|registration|reference|order|ticket)\s+number\b",
    re.IGNORECASE,
)


def _clean(text: str) -> tuple[str, bool]:
    """The question with politeness stripped; ``True`` when an "if/whether" clause makes it yes/no."""
    q = " ".join(text.replace("’", "'").split())
    sentences = [s for s in re.split(r"(?<=[.!?])\s+", q) if s.strip()]
    asked = next((s for s in sentences if s.rstrip().endswith("?")), sentences[-1] if sentences else q)
    # "How many ..., and when does ...?": the first clause sets the form; the rest still counts for needs.
    asked = re.split(r",?\s+(?:and|also)\s+(?=(?:when|what|where|who|how|which|is|are|does|do|can)\b)", asked, maxsplit=1)[0]
    stripped = _PREFIXES.sub("", asked, count=1) if _PREFIXES.match(asked) else asked
    embedded = stripped != asked and (bool(_EMBEDDED_YES_NO.match(stripped)) or bool(
        re.match(r"^(?:would you say|do you think|would you agree|is it true)\b", asked, re.IGNORECASE)
        and not re.match(r"^(?:what|which|who|where|when|how|why)\b", stripped, re.IGNORECASE)))
    stripped = re.sub(r"^that\s+", "", stripped) if embedded else stripped
    stripped = _EMBEDDED_YES_NO.sub("", stripped, count=1) if embedded else stripped
    return stripped.strip() or asked.strip(), embedded


def _singular(word: str) -> str:
    w = word.lower()
    for plural, single in (("ies", "y"), ("ves", "f"), ("ches", "ch"), ("shes", "sh"), ("sses", "ss"), ("xes", "x")):
        if w.endswith(plural) and len(w) > len(plural) + 1:
            return w[: -len(plural)] + single
    if w.endswith("s") and not w.endswith(("ss", "us", "is")) and len(w) > 3:
        return w[:-1]
    return {"people": "person", "men": "man", "women": "woman", "children": "child", "mice": "mouse"}.get(w, w)


class _Mention(BaseModel):
    start: int
    end: int
    target: Target


def _mentions(q: str) -> list[_Mention]:
    """Noun phrases in ``q``: detector classes wherever they stand, other nouns after a determiner."""
    found: list[_Mention] = []
    for label, start, end, said in label_spans(q):
        noun = _singular(said.split()[-1]) if " " not in label else label
        found.append(_Mention(start=start, end=end, target=Target(phrase=said.lower(), noun=noun, label=label)))
    tokens = list(re.finditer(r"[A-Za-z][A-Za-z'-]*", q))
    i = 0
    while i < len(tokens):
        word = tokens[i].group(0).lower()
        if word in _DETERMINERS or word in _REL_WORDS or (word == "many" and i > 0 and tokens[i - 1].group(0).lower() == "how"):
            j, words = i + 1, []
            while j < len(tokens) and len(words) < 4:
                w = tokens[j].group(0).lower()
                if w in _STOP or w in _DETERMINERS or w in _REL_WORDS:
                    break
                words.append(tokens[j])
                j += 1
            if words:
                head = words[-1]
                start, end = words[0].start(), head.end()
                covered = any(m.start <= head.start() < m.end for m in found)
                noun = _singular(head.group(0))
                if not covered and noun not in _NOT_TARGETS and head.group(0).lower() not in _NOT_TARGETS:
                    label = canonical(noun)
                    mods = [w.group(0).lower() for w in words[:-1]]
                    found.append(_Mention(start=start, end=end, target=Target(
                        phrase=" ".join(w.group(0).lower() for w in words), noun=noun, label=label, modifiers=mods)))
            i = max(j, i + 1)
            continue
        i += 1
    found.sort(key=lambda m: m.start)
    out: list[_Mention] = []
    for m in found:
        if out and m.start < out[-1].end:
            continue
        t = m.target
        bearing = t.label is None and (t.noun in TEXT_BEARING or t.phrase in TEXT_BEARING)
        after = re.match(r"\s+([a-z]+)", q[m.end:])
        if t.noun in _COLOURS and after and after.group(1) not in _STOP and after.group(1) not in _REL_WORDS:
            continue  # "the orange cat": a colour, not the fruit
        if t.label is None and not bearing and t.noun in _COLOURS:
            continue
        if re.search(r"\b(?:made\s+(?:of|from|out\s+of)|in)\s+$", q[: m.start]) and t.noun in _MATERIALS:
            continue  # "made of leather": what it is made of, not a second thing
        out.append(m.model_copy(update={"target": t.model_copy(update={"text_bearing": bearing})}))
    return out


def _blank(text: str, pattern: re.Pattern[str]) -> str:
    """``text`` with every match of ``pattern`` replaced by spaces, so offsets stay put."""
    return pattern.sub(lambda m: " " * len(m.group(0)), text)


# A verdict asked of a statement: its two words are the options, whatever the statement says.
_VERDICT = re.compile(r"\b(true|correct|right)\s+or\s+(false|incorrect|wrong)\b", re.IGNORECASE)


def _options(q: str) -> list[str]:
    """The options of an "X or Y" question, as short phrases ("full", "empty"; "cat", "dog", "horse")."""
    if verdict := _VERDICT.search(q):
        return [verdict.group(1).lower(), verdict.group(2).lower()]
    m = re.search(r"^(?P<left>.*?)\s*,?\s+\bor\b\s+(?P<right>[^?.!]*)", q, re.IGNORECASE)
    if m is None or re.match(r"\s*not\b", m.group("right"), re.IGNORECASE):
        return []
    filler = r"(?:on|in|at|to|into|from|the|a|an|some|it|its|is|are|more|much|rather)\s+"
    right = re.sub(rf"^(?:{filler})+", "", m.group("right").strip(), flags=re.IGNORECASE)
    right = re.split(rf"\s+(?:than|of|in|on|at|from|compared|for|side|when|while|here|today|now|the|a|an|this|that)\b|,|"
                     rf"\s+(?:{_IMAGE_WORDS})\b", right, maxsplit=1, flags=re.IGNORECASE)[0].strip()
    if not right:
        return []
    parts = re.split(r",\s*", m.group("left"))
    if len(parts) > 1 and re.match(r"^(?:which|who|what|where)\b", parts[0], re.IGNORECASE):  # "Which is larger, the cat, the dog or the horse?"
        listed = [re.sub(rf"^(?:{filler})+", "", p.strip(), flags=re.IGNORECASE).lower() for p in parts[1:]]
        return [*[x for x in listed if x], right.lower()]
    words = re.findall(r"[\w'-]+", parts[-1])
    left: list[str] = []
    for w in reversed(words):  # back from "or" to the first word that cannot be part of an option
        if left and (w.lower() in _STOP or w.lower() in _DETERMINERS) or len(left) >= len(right.split()):
            break
        left.insert(0, w)
    option = " ".join(left).lower()
    if not option or option == right.lower():
        return []
    return [option, right.lower()]


# Words that frame a question or point at the picture; they say nothing of the thing named.
_FRAME = frozenset({
    *_DETERMINERS, *_AUX.replace("'", "|").split("|"), "t", "s", "d", "ll", "re", "ve", "m", "am", "be", "been", "being",
    "what", "which", "who", "whom", "whose", "where", "when", "how", "there", "here", "it", "this", "that", "these", "those",
    "they", "them", "you", "i", "we", "me", "us", "he", "she", "him", "one", "ones", "in", "on", "at", "of", "to", "by", "for",
    "with", "from", "into", "onto", "over", "under", "above", "below", "behind", "near", "beside", "next", "between",
    "inside", "outside", "up", "down", "off", "out", "about", "around", "through", "across", "along", "against", "toward",
    "towards", "and", "or", "but", "nor", "see", "visible", "many", "much", "number", "count", "total", "exactly", "only",
    "just", "please", "tell", "colour", "color", "colours", "colors", "shade", "hue", "any", "anyone", "anybody",
    "anything", "someone", "somebody", "something", "picture", "pictures", "photo", "photos", "photograph", "image",
    "images", "pic", "scene", "shot", "background", "side", "corner", "half", "part", "hand", "edge", "area", "region",
    "very", "far", "else", "than", "rather", "more", "fewer", "less",
})  # fmt: skip


def _unchecked(q: str, spans: list[tuple[int, int]], checked: set[str]) -> list[str]:
    """The words of ``q`` outside the mentions and the relation phrase that neither frame the
    question nor are ``checked`` by what answers it (its options, the colour or position asked)."""
    text = _blank(q, _IMAGE_REF)
    for a, b in spans:
        text = text[:a] + " " * (b - a) + text[b:]
    words = re.findall(r"[a-z]+", text.lower())
    return [w for w in words if w not in _FRAME and w not in checked and w not in _NUMBER_WORDS and not _COMPARATIVE.fullmatch(w)]


def _checked_number(q: str, form: Form) -> int | None:
    if form != "yes_no":
        return None
    for word, value in _NUMBER_WORDS.items():
        if word in ("no", "one", "a single") and not re.search(rf"\b(?:is|are) there (?:exactly |only |just )?{word}\b", q, re.IGNORECASE):
            continue
        if re.search(rf"\b{word}\b", q, re.IGNORECASE) and word not in ("one",):
            return value
    m = re.search(r"\b(\d+)\b", q)
    return int(m.group(1)) if m else None


def analyze(text: str, choices: Sequence[str] = ()) -> Question:
    """The rules' analysis of ``text`` (and its multiple-choice ``choices``, if any).

    Example:
        >>> q = analyze("Is the cup full or empty?")
        >>> q.form, q.options, [t.label for t in q.targets]
        ('alternative', ['full', 'empty'], ['cup'])
        >>> q = analyze("Is the man with the umbrella to the left of the car?")
        >>> q.form, q.relation, q.labels
        ('yes_no', 'left_of', ['person', 'car'])
    """
    q, embedded = _clean(text)
    lower = q.lower()
    # Take out what is about the picture itself and what narrows one thing down, keeping offsets.
    plain = _blank(q, _IMAGE_REF)
    positions = [(m.start(), m.group("where").lower().replace(" ", "-")) for m in _POSITION.finditer(plain)]
    plain = _blank(plain, _POSITION)
    plain = _blank(plain, _MODIFIER_PHRASE)
    with_free = _blank(plain, _WITH_PHRASE)
    mentions = _mentions(q)
    if not mentions and q != " ".join(text.split()):  # "Look at the sign. What does it say?": it is the sign
        context = _mentions(" ".join(text.replace("’", "'").split()))
        mentions = [m.model_copy(update={"start": -1, "end": -1}) for m in context[:2]]
    worn = [m.span() for m in _MODIFIER_PHRASE.finditer(q)]
    for a, b in worn:  # "the man in the blue shirt": the shirt narrows the man down, it is no target
        inner = [m for m in mentions if a <= m.start < b]
        owner = next((m for m in reversed(mentions) if m.end <= a), None)
        later = [m for m in mentions if m.start >= b] or find_relations(q[b:])
        if inner and owner is not None and later:
            said = " ".join(q[a:b].lower().split())
            mentions = [
                m.model_copy(update={"target": m.target.model_copy(update={"modifiers": [*m.target.modifiers, said]})})
                if m is owner else m
                for m in mentions if m not in inner
            ]
    # Relations: the first phrase with a mention on each side, outside modifier phrases.
    relation = relation_phrase = None
    relation_span = (0, 0)
    order = list(range(len(mentions)))
    for match in find_relations(with_free):
        before = [i for i, m in enumerate(mentions) if m.end <= match.start]
        after = [i for i, m in enumerate(mentions) if m.start >= match.end]
        inside_mention = any(m.start <= match.start < m.end for m in mentions)
        if before and after and not inside_mention:
            subject, obj = before[-1], after[0]
            if re.search(r"\b(?:with|wearing|carrying)\b", q[mentions[before[0]].end:mentions[subject].start], re.IGNORECASE):
                subject = before[0]
            relation, relation_phrase = match.relation or "undecidable", match.phrase
            relation_span = (match.start, match.end)
            order = [subject, obj, *[i for i in order if i not in (subject, obj)]]
            break
    if relation is None and len(mentions) >= 2:  # "Is the cat with the teddy bear?": with is the relation
        joined = re.search(r"\bwith\b", q[mentions[0].end:mentions[1].start])
        if joined and _YES_NO_START.match(q) and not re.search(r"\b(?:or)\b", q[mentions[0].end:mentions[1].start]):
            relation, relation_phrase = "near", "with"
    targets = [mentions[i].target for i in order]
    if relation is None and not re.search(r"\bor\b", lower):  # "How many men and women?": one class, once
        seen_labels: set[str] = set()
        kept = []
        for t in targets:
            if t.label is not None and t.label in seen_labels:
                continue
            seen_labels.add(t.label or "")
            kept.append(t)
        targets = kept
    for start, where in positions:  # "the car on the left": a position narrows the mention before it
        if relation is None and re.search(r"\bor\b", lower):
            break  # "on the left or the right?": the positions are the options, not a modifier
        owner = max((i for i, t in enumerate(targets) if mentions[order[i]].end <= start), default=None,
                    key=lambda i: mentions[order[i]].end)
        if owner is not None:
            t = targets[owner]
            targets[owner] = t.model_copy(update={"modifiers": [*t.modifiers, f"on the {where}"], "phrase": f"{t.phrase} on the {where}"})
    for m in _WITH_PHRASE.finditer(q):
        owner = max((i for i, t in enumerate(targets) if mentions[order[i]].end <= m.start()), default=None,
                    key=lambda i: mentions[order[i]].end)
        if owner is not None and relation is not None and relation_phrase != "with":
            t = targets[owner]
            said = " ".join(m.group(0).lower().split())
            targets[owner] = t.model_copy(update={"modifiers": [*t.modifiers, said]})
            targets = [x for k, x in enumerate(targets) if k == owner or not (m.start() <= mentions[order[k]].start < m.end())]
            break

    form, sure, options = _form(q, lower, choices, embedded, targets, relation)
    if form in ("alternative", "compare") and not options:
        options = _options(q)
        if form == "alternative" and len(options) < 2:
            form = "yes_no"
        if form == "compare" and len(options) < 2:
            options = [t.noun for t in targets[:2]] if len(targets) >= 2 else []
    if form == "read" and _KNOWLEDGE.search(text) and (not any(t.text_bearing for t in targets) or re.match(r"^(?:who|which)\b", lower)):
        form = "identify"  # "Which painter painted the park named on this sign?": a name the web knows
    attribute = _attribute(lower, form)
    position = None
    if form == "yes_no" and positions and relation is None:
        position = positions[0][1]
    value = ""
    if form == "yes_no":
        colour = _COLOUR_RE.search(" ".join(_blank(q, _IMAGE_REF).replace(",", " ").split()[-2:]))  # "Is the bus red?": the colour is checked
        if colour and not any(t.noun == colour.group(1).lower() for t in targets):
            value, attribute = colour.group(1).lower(), "color"
        quoted = re.search(r"[\"“']([^\"”']{1,40})[\"”']", q)
        if quoted:
            value = quoted.group(1)
        elif re.search(r"\b(?:say|says|read|reads)\b\s+(.+?)\s*[?.!]*$", q, re.IGNORECASE):
            value = re.search(r"\b(?:say|says|read|reads)\b\s+(.+?)\s*[?.!]*$", q, re.IGNORECASE).group(1)  # type: ignore[union-attr]
    number = _checked_number(lower, form)
    spans = [(m.start, m.end) for m in mentions if m.start >= 0] + [relation_span]
    checked = {w for o in options for w in re.findall(r"[a-z]+", o.lower())} | set(re.findall(r"[a-z]+", value.lower()))
    if form == "yes_no" and position or form == "position":
        checked |= set(_POSITION_WORDS.replace("-", "|").replace(" ", "|").split("|"))
    unchecked = _unchecked(q, spans, checked)
    ends, starts = _RANGE_END.search(lower), _RANGE_START.search(lower)
    reads_end = form == "read" and ends is not None and (starts is None or ends.start() < starts.start())
    bearing = any(t.text_bearing for t in targets)
    cues = _TEXT_CUES.search(re.sub(r"\b(?:the\s+)?number\s+of\b", " ", text, flags=re.IGNORECASE))
    if form in ("read", "number") or bearing or re.search(r"[\"“][^\"”]+[\"”]", q) or cues:
        text_need: TextNeed = "needed"
    elif targets and all(t.label for t in targets) and form in ("count", "position", "compare", "yes_no", "attribute"):
        text_need = "irrelevant"
    else:
        text_need = "maybe"
    return Question(
        text=text,
        form=form,
        options=options,
        choices=list(choices),
        attribute=attribute,
        value=value,
        number=number,
        position=position,
        targets=targets,
        relation=relation,
        relation_phrase=relation_phrase,
        text_need=text_need,
        needs_knowledge=bool(_KNOWLEDGE.search(text)),
        exhaustive=form == "count" or bool(re.search(r"\b(?:all|every|each)\s+(?:the\s+|of the\s+)?\w", lower)),
        reads_end=reads_end,
        unchecked=unchecked,
        sure=sure,
    )


def _form(
    q: str, lower: str, choices: Sequence[str], embedded: bool, targets: list[Target], relation: str | None
) -> tuple[Form, bool, list[str]]:
    """The answer form, whether a rule was sure of it, and options found on the way."""
    if choices:
        return "choice", True, []
    if _UNIT_COUNT.search(q):
        return "number", True, []
    if _COUNT.search(_ID_NUMBER.sub(" ", q)) and not re.search(r"\bwhat\s+number\s+(?:is|are|was)\b", lower):
        return "count", True, []
    if _ID_NUMBER.search(q) and not _YES_NO_START.match(lower):
        return "read", True, []
    yes_no_start = bool(_YES_NO_START.match(q)) or embedded
    existential = re.match(r"^(?:is|are|was|were)\s+there\b|^(?:do|can|could)\s+(?:you|we|i)\s+see\b|^(?:is|are)\s+(?:any|anyone|anybody|someone)\b", lower)
    has_or = re.search(r"\bor\b(?!\s+not\b)", lower) is not None
    if _PLACE.search(q) and not (yes_no_start and not has_or):
        if has_or and yes_no_start:
            return "alternative", True, _options(q)
        return "place", True, []
    wh = re.match(r"^(?:which|who|what|whose)\b", lower)
    if wh and has_or and (comparative := _comparatives(lower)):
        del comparative
        return "compare", True, []
    if _VERDICT.search(q):  # "True or false: ...": a verdict on the statement, whatever it asks
        return "alternative", True, _options(q)
    numbers = _NUMBER_OPTIONS.search(lower) if has_or else None
    if numbers and (yes_no_start or not wh) and not _COUNT.search(q):  # "Are there two or three cars?": a count to choose
        return "alternative", True, [n for n in numbers.group("a", "b", "c") if n]
    if yes_no_start and has_or and not existential:
        return "alternative", True, []
    if not wh and not yes_no_start and has_or and len(q.split()) <= 6 and not re.match(r"^(?:where|when|why|how)\b", lower):
        return "alternative", True, []
    if wh and has_or:
        return "compare", True, []
    if re.match(r"^(?:which|who|what)\b", lower) and _comparatives(lower) and not _NUMBER.search(q):
        return "compare", True, []
    if _OPEN.search(q) and re.match(r"^(?:can|could|would)\s+you\s+(?:describe|explain|summari[sz]e)\b", lower):
        return "open", True, []
    if yes_no_start:
        if re.match(r"^(?:can|could)\s+you\s+(?:read|tell)\b", lower) and not re.search(r"\b(?:clearly|easily|properly|at all)\b", lower):
            return "read", True, []
        return "yes_no", True, []
    if re.search(r",\s*(?:which|who|what)\b", lower) and _comparatives(lower):
        return "compare", True, []
    if re.match(r"^(?:what|which)\s+colou?rs?\b", lower):
        return "attribute", True, []
    if re.match(r"^(?:count|tally)\b", lower):
        return "count", True, []
    if re.match(r"^(?:read|transcribe)\b", lower):
        return "read", True, []
    if _READ.search(q) and not re.match(r"^(?:who|why|how(?!\s+(?:much|late)))\b", lower):
        return "read", True, []
    if _NUMBER.search(q) and not re.match(r"^(?:why)\b", lower):
        if re.search(r"\bhow\s+(?:old|far|long|heavy|fast)\b", lower) and not _KNOWLEDGE.search(q):
            return "number", False, []
        return "number", True, []
    for _, pattern in _ATTRIBUTE:
        if pattern.search(q) and (re.match(r"^(?:what|which|how|describe|the)\b", lower) or not wh and not yes_no_start):
            return "attribute", True, []
    if _WHERE_IN_IMAGE.search(q):
        if re.match(r"^where\b", lower) and not targets:
            return "place", False, []
        return "position", True, []
    if _OPEN.search(q):
        return "open", True, []
    if _IDENTIFY.search(q):
        return "identify", True, []
    if re.match(r"^(?:what|which|who)\b", lower):
        return "identify", False, []
    return "open", False, []


def _comparatives(lower: str) -> list[str]:
    return _COMPARATIVE.findall(lower)


def _attribute(lower: str, form: Form) -> Attribute | None:
    for name, pattern in _ATTRIBUTE:
        if pattern.search(lower):
            return name
    if form in ("yes_no", "alternative"):
        if _COLOUR_RE.search(lower) and form == "alternative":
            return "color"
        if _SHAPE_WORDS.search(lower):
            return "shape"
        if re.search(r"\b(?:wooden|metal|metallic|plastic|glass|leather|ceramic|stone|brick|paper|cardboard|steel|concrete|"
                     r"cotton|wool|woollen|silk|marble|iron)\b\s*(?:or\b|[?.!]*$)", lower):
            return "material"
        if form == "yes_no" and _SIZE_COMPARE.search(lower):
            return "size"
        if _STATE_WORDS.search(lower):
            return "state"
        if _SIZE_WORDS.search(lower):
            return "size"
    return None


def accept_form(question: Question, form: str) -> bool:
    """Whether a model's form for an unsure question is one its wording allows.

    A model may say what an open "what ..." question wants (a name, a place, text);
    it may not turn it into a count, a yes/no or a choice its wording lacks.
    """
    if form not in FORMS or form == question.form:
        return form in FORMS
    if form in ("choice",):
        return bool(question.choices)
    if form in ("count", "yes_no", "alternative", "compare"):
        return False
    if form == "read":
        return question.text_need != "irrelevant"
    return True
