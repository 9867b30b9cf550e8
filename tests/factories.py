import factory
from django.contrib.auth.hashers import make_password
from django.utils import timezone

from accounts.models import Institution, Municipality, RoleAssignment, User
from accounts.services import role_groups_sync

PASSWORD = "correct horse battery"


class MunicipalityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Municipality
        django_get_or_create = ("code",)

    name = factory.Sequence(lambda n: f"Bashkia {n}")
    code = factory.Sequence(lambda n: "".join(chr(65 + int(d)) for d in f"{n:03d}"))


class InstitutionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Institution

    municipality = factory.SubFactory(MunicipalityFactory)
    kind = Institution.Kind.POLICE
    name = factory.Sequence(lambda n: f"Institucioni {n}")


class UserFactory(factory.django.DjangoModelFactory):
    """An account; `roles=[...]` assigns roles in force after creation (as the platform
    grants them: tests of the approval go through the services)."""

    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"perdorues{n}")
    first_name = "Test"
    last_name = "Përdorues"
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.invalid")
    email_confirmed_at = factory.LazyFunction(timezone.now)
    password = factory.LazyFunction(lambda: make_password(PASSWORD))
    municipality = factory.SubFactory(MunicipalityFactory)

    @factory.post_generation
    def roles(self, create, extracted, **kwargs):
        for role in extracted or []:
            RoleAssignment.objects.create(user=self, role=role, approved_at=timezone.now())
        self.__dict__.pop("roles", None)
        role_groups_sync(user=self)
