"""What a student's new portal password must be: long enough, not the ID, not a common one."""

from __future__ import annotations

from hallpass.errors import Invalid
from hallpass.messages import say

MIN_LENGTH = 8
MAX_LENGTH = 128

_COMMON_WORDS = """
    password password1 password12 password123 password1234 passw0rd p@ssword p@ssw0rd
    12345678 123456789 1234567890 0123456789 87654321 11111111 00000000 12341234 12121212
    qwertyui qwerty123 qwertyuiop 1q2w3e4r 1q2w3e4r5t 1qaz2wsx qazwsxedc asdfghjk asdfasdf
    zxcvbnm1 iloveyou iloveyou1 sunshine princess football baseball basketball superman
    batman123 starwars trustno1 letmein1 welcome1 welcome123 whatever dragon12 monkey123
    abcd1234 abc12345 abcdefgh aaaaaaaa changeme computer internet michelle jennifer
    charlie1 shadow12 master12 freedom1 hello123 mustang1 access14 jordan23 chocolate
    butterfly pokemon1 minecraft fortnite roblox123 student1 student123 school123
    teacher1 hallpass hallpass1 homework classroom
"""
COMMON = frozenset(_COMMON_WORDS.split())


def check_new_password(password: str, *, ids: set[str]) -> None:
    """Raise Invalid naming the rule the password breaks."""
    if len(password) < MIN_LENGTH:
        raise Invalid(say("password.short", length=MIN_LENGTH), field="new_password", rule="length")
    if len(password) > MAX_LENGTH:
        raise Invalid(say("password.long", length=MAX_LENGTH), field="new_password", rule="length")
    lowered = password.strip().lower()
    if lowered in {i.lower() for i in ids} or lowered.lstrip("#") in {i.lstrip("#").lower() for i in ids}:
        raise Invalid(say("password.not_id"), field="new_password", rule="not_id")
    if lowered in COMMON:
        raise Invalid(
            say("password.common"),
            field="new_password",
            rule="common",
        )
