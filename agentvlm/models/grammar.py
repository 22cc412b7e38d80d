"""JSON schemas as llama.cpp grammars (GBNF), checked before llama.cpp sees them.

llama.cpp does not raise on a grammar it cannot parse: its sampler comes back
null and llama-cpp-python uses it anyway, so the process dies with a segmentation
fault. ``schema_grammar`` therefore converts the schema with llama-cpp-python's own
converter and parses the result here, with the rules of llama.cpp's grammar
parser; a grammar that fails is a ``ValueError``, never a grammar handed on.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["check_gbnf", "schema_grammar"]

_ESCAPES = frozenset('trn\\"[]')
_HEX = {"x": 2, "u": 4, "U": 8}
_HEX_DIGITS = frozenset("0123456789abcdefABCDEF")


def schema_grammar(schema: dict[str, Any]) -> str:
    """The GBNF grammar llama.cpp decodes ``schema`` under, or ``ValueError`` when it would not parse."""
    from llama_cpp.llama_grammar import json_schema_to_gbnf

    try:
        gbnf: str = json_schema_to_gbnf(json.dumps(schema))
    except (ValueError, KeyError, TypeError, NotImplementedError, RecursionError) as exc:
        raise ValueError(f"the schema has no llama.cpp grammar: {type(exc).__name__}: {exc}") from None
    check_gbnf(gbnf)
    return gbnf


def check_gbnf(text: str, root: str = "root") -> None:
    """Raise ``ValueError`` (with the offending line) where llama.cpp's parser would reject ``text``.

    Example:
        >>> check_gbnf('root ::= "yes" | "no"')
        >>> check_gbnf('root ::= "a" b')
        Traceback (most recent call last):
        ...
        ValueError: invalid grammar: undefined rule 'b'
    """
    _Parser(text).parse(root)


class _Parser:
    """A recursive-descent twin of llama.cpp's ``llama_grammar_parser`` that only validates."""

    def __init__(self, text: str) -> None:
        self.src = text
        self.defined: set[str] = set()
        self.used: set[str] = set()

    def fail(self, pos: int, why: str) -> ValueError:
        line = self.src.count("\n", 0, pos) + 1
        return ValueError(f"invalid grammar at line {line}: {why}, got {self.src[pos : pos + 20]!r}")

    def at(self, pos: int) -> str:
        return self.src[pos] if pos < len(self.src) else ""

    def parse(self, root: str) -> None:
        pos = self.space(0, newline_ok=True)
        while pos < len(self.src):
            pos = self.rule(pos)
        missing = sorted(self.used - self.defined)
        if missing:
            raise ValueError(f"invalid grammar: undefined rule {missing[0]!r}")
        if root not in self.defined:
            raise ValueError(f"invalid grammar: no {root!r} rule")

    def space(self, pos: int, *, newline_ok: bool) -> int:
        while (c := self.at(pos)) and (c in " \t#" or (newline_ok and c in "\r\n")):
            if c == "#":
                while self.at(pos) not in ("", "\r", "\n"):
                    pos += 1
            else:
                pos += 1
        return pos

    def name(self, pos: int) -> int:
        end = pos
        while (c := self.at(end)) and (c.isascii() and (c.isalnum() or c == "-")):
            end += 1
        if end == pos:
            raise self.fail(pos, "expecting name")
        return end

    def rule(self, pos: int) -> int:
        end = self.name(pos)
        self.defined.add(self.src[pos:end])
        pos = self.space(end, newline_ok=False)
        if not self.src.startswith("::=", pos):
            raise self.fail(pos, "expecting ::=")
        pos = self.alternates(self.space(pos + 3, newline_ok=True), nested=False)
        if self.at(pos) == "\r":
            pos += 2 if self.at(pos + 1) == "\n" else 1
        elif self.at(pos) == "\n":
            pos += 1
        elif pos < len(self.src):
            raise self.fail(pos, "expecting newline or end")
        return self.space(pos, newline_ok=True)

    def alternates(self, pos: int, *, nested: bool) -> int:
        pos = self.sequence(pos, nested=nested)
        while self.at(pos) == "|":
            pos = self.sequence(self.space(pos + 1, newline_ok=True), nested=nested)
        return pos

    def sequence(self, pos: int, *, nested: bool) -> int:
        has_item = False
        while c := self.at(pos):
            if c == '"':
                pos += 1
                while self.at(pos) != '"':
                    if not self.at(pos):
                        raise self.fail(pos, "unexpected end of input")
                    pos = self.char(pos)
                pos += 1
            elif c == "[":
                pos += 1
                if self.at(pos) == "^":
                    pos += 1
                while self.at(pos) != "]":
                    if not self.at(pos):
                        raise self.fail(pos, "unexpected end of input")
                    pos = self.char(pos)
                    if self.at(pos) == "-" and self.at(pos + 1) not in ("", "]"):
                        pos = self.char(pos + 1)
                pos += 1
            elif c.isascii() and (c.isalnum() or c == "-"):
                end = self.name(pos)
                self.used.add(self.src[pos:end])
                pos = end
            elif c == "(":
                pos = self.alternates(self.space(pos + 1, newline_ok=True), nested=True)
                if self.at(pos) != ")":
                    raise self.fail(pos, "expecting ')'")
                pos += 1
            elif c == ".":
                pos += 1
            elif c in "*+?":
                if not has_item:
                    raise self.fail(pos, "expecting preceding item to */+/? operator")
                pos += 1
            elif c == "{":
                if not has_item:
                    raise self.fail(pos, "expecting preceding item to {} operator")
                pos = self.braces(pos, nested=nested)
                has_item = True
                continue
            else:
                break
            has_item = True
            pos = self.space(pos, newline_ok=nested)
        return pos

    def braces(self, pos: int, *, nested: bool) -> int:
        pos = self.space(pos + 1, newline_ok=nested)
        low_end = self.digits(pos)
        if low_end == pos:
            raise self.fail(pos, "expecting an int")
        pos = self.space(low_end, newline_ok=nested)
        if self.at(pos) == ",":
            pos = self.space(pos + 1, newline_ok=nested)
            pos = self.space(self.digits(pos), newline_ok=nested)
        if self.at(pos) != "}":
            raise self.fail(pos, "expecting '}'")
        return self.space(pos + 1, newline_ok=nested)

    def digits(self, pos: int) -> int:
        while self.at(pos).isascii() and self.at(pos).isdigit():
            pos += 1
        return pos

    def char(self, pos: int) -> int:
        if self.at(pos) != "\\":
            return pos + 1
        kind = self.at(pos + 1)
        if kind in _HEX:
            width = _HEX[kind]
            digits = self.src[pos + 2 : pos + 2 + width]
            if len(digits) != width or not set(digits) <= _HEX_DIGITS:
                raise self.fail(pos, "expecting hex digits")
            return pos + 2 + width
        if kind and kind in _ESCAPES:
            return pos + 2
        if not kind:
            raise self.fail(pos, "unexpected end of input")
        raise self.fail(pos, f"unknown escape '\\{kind}'")
