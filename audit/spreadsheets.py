"""Text bound for a spreadsheet, for every export of the project (the trail's, the reports').

A spreadsheet runs a cell that starts like a formula (= + - @, or a tab or
carriage return before one); a leading apostrophe keeps it text. The audit
app holds it because it is the lowest app that exports.
"""

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def defused(text: str) -> str:
    """`text` as a spreadsheet shows it, never as a formula it would run."""
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text
