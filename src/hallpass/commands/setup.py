"""The first run without the demo: an empty instance gets its district, first school and first
district administrator, in one transaction, once."""

from __future__ import annotations

from datetime import datetime
from uuid import uuid4, uuid5

from hallpass.acting import Actor
from hallpass.aggregates import ids
from hallpass.aggregates.administration import Claim
from hallpass.aggregates.districts import District
from hallpass.aggregates.schools import School, check_timezone
from hallpass.aggregates.staff import Role, Staff
from hallpass.commands.admin_messages import SetUp
from hallpass.commands.base import CommandBase
from hallpass.commands.password_rules import check_new_password
from hallpass.commands.repository import ConcurrentChange
from hallpass.credentials import hash_password
from hallpass.errors import Conflict
from hallpass.messages import say

INSTALLATION = uuid5(ids.NAMESPACE, "installation")
"""The index stream set-up claims: a second set-up, even at the same moment, finds it taken."""


class SetUpCommands(CommandBase):
    """Mixed into `Hallpass`."""

    async def needs_set_up(self) -> bool:
        """Nothing is recorded yet: no demo, no earlier set-up, no school."""
        return await self.store.max_notification_id() is None

    async def set_up(self, command: SetUp, *, now: datetime) -> tuple[Actor, int | None]:
        """Create the district, its first school and its district administrator; the answer is
        that administrator, to sign in, and the log's position after. Conflict once anything is
        recorded."""
        if not await self.needs_set_up():
            raise Conflict(say("setup.done"))
        check_timezone(command.timezone)
        email = command.email.strip().lower()
        check_new_password(command.password, ids={email, email.split("@")[0]})
        district = District._create(
            District.Founded, id=uuid4(), timestamp=now, name=command.district_name.strip()
        )
        school = School._create(
            School.Registered,
            id=uuid4(),
            timestamp=now,
            district_id=district.id,
            name=command.school_name.strip(),
            timezone=command.timezone,
        )
        admin = Staff._create(
            Staff.Hired,
            id=ids.staff_email_index(email),
            timestamp=now,
            school_id=school.id,
            name=command.name.strip(),
            email=email,
            roles=(Role.DISTRICT_ADMIN.value,),
            room_id=None,
        )
        claim = Claim._create(
            Claim.Made, id=INSTALLATION, timestamp=now, key="installation", owner_id=district.id
        )
        try:
            notification_id = await self.repository.save(claim, district, school, admin)
        except ConcurrentChange as e:
            raise Conflict(say("setup.done")) from e
        await self.credentials.set_password_hash(
            login=email,
            principal_kind="staff",
            principal_id=admin.id,
            school_id=school.id,
            password_hash=await hash_password(command.password),
            now=now,
        )
        return staff_actor(admin), notification_id


def staff_actor(staff: Staff) -> Actor:
    """The member of staff as a signed-in caller."""
    return Actor(
        kind="staff",
        id=staff.id,
        school_id=staff.school_id,
        role=staff.role.value,
        name=staff.name,
        roles=tuple(r.value for r in staff.roles),
    )
