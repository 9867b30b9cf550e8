"""How long free text typed by users may be, in characters, in one place.

Forms and model fields take their `max_length` from here, so what a form
refuses is what the model refuses. The limits are generous for real work (a
narrative of a few pages) and bounded so that a case page stays small
whatever is typed into it. Encrypted fields check the limit on the clear
text, at validation and again when the row is saved.
"""

# A person's first or last name.
NAME = 100
# A phone number.
PHONE = 30
# A title, a place: one line.
LINE = 200
# An address.
ADDRESS = 500
# A reason, a comment, an answer, a justification: a paragraph.
REASON = 1_000
# Notes, decisions, goals, measures: a page.
TEXT = 4_000
# What was reported, what happened, findings, minutes: a few pages.
NARRATIVE = 10_000
# A record that grows with each entry appended to it (what an institution did
# on a referral): room for many entries of TEXT.
RECORD = 20_000
# A search box.
SEARCH = 200
# A password: long passphrases welcome, not a megabyte for Argon2 to hash.
PASSWORD = 256
