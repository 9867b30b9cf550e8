"""Invented organisations and people of the demo. Real places, invented staff."""

from .models import Institution
from .roles import Role

DEMO_PASSWORD = "Mbrojtje-Demo-2026"  # noqa: S105 - printed for the demo on purpose

MUNICIPALITIES = [
    {
        "name": "Durrës",
        "code": "DR",
        "slug": "durres",
        "units": ["Durrës", "Ishëm", "Katund i Ri", "Manëz", "Rrashbull", "Sukth"],
    },
    {
        "name": "Berat",
        "code": "BR",
        "slug": "berat",
        "units": ["Berat", "Otllak", "Roshnik", "Sinjë", "Velabisht"],
    },
]

# (kind, name pattern); {m} is the municipality's name.
INSTITUTIONS = [
    (Institution.Kind.POLICE, "Drejtoria Vendore e Policisë {m}"),
    (Institution.Kind.PROSECUTION, "Prokuroria pranë Gjykatës së Rrethit Gjyqësor {m}"),
    (Institution.Kind.COURT, "Gjykata e Rrethit Gjyqësor {m}"),
    (Institution.Kind.HEALTH, "Qendra Shëndetësore Nr. 1 {m}"),
    (Institution.Kind.EDUCATION, "Zyra Vendore Arsimore {m}"),
    (Institution.Kind.EMPLOYMENT, "Zyra Vendore e Punësimit {m}"),
    (Institution.Kind.STATE_SOCIAL_SERVICE, "Shërbimi Social Shtetëror, dega {m}"),
    (Institution.Kind.SOCIAL_SERVICES, "Drejtoria e Shërbimeve Sociale, Bashkia {m}"),
    (Institution.Kind.NGO, "Qendra për Mbështetje Familjare {m} (OJF)"),
    (Institution.Kind.SHELTER, "Qendra e Emergjencës {m}"),
]

# (username suffix, role, institution kind or None)
STAFF = [
    ("pmf", Role.CHILD_PROTECTION_WORKER, None),
    ("kreu", Role.HEAD_OF_CPU, None),
    ("koordinatori", Role.DV_COORDINATOR, None),
    ("drejtori", Role.HEAD_OF_SOCIAL_SERVICES, None),
    ("policia", Role.CCR_MEMBER, Institution.Kind.POLICE),
    ("shkolla", Role.CCR_MEMBER, Institution.Kind.EDUCATION),
    ("barazia", Role.GENDER_EQUALITY_OFFICER, None),
    ("admin", Role.MUNICIPAL_ADMINISTRATOR, None),
]

# Invented names of the staff above, in the same order, by municipality.
STAFF_NAMES = {
    "durres": [
        ("Elira", "Hoxha"),
        ("Arben", "Kola"),
        ("Mirela", "Dervishi"),
        ("Majlinda", "Rexha"),
        ("Gentian", "Marku"),
        ("Valbona", "Shehu"),
        ("Teuta", "Leka"),
        ("Ilir", "Basha"),
    ],
    "berat": [
        ("Anila", "Çela"),
        ("Dritan", "Muka"),
        ("Brunilda", "Xhafa"),
        ("Kujtim", "Pasha"),
        ("Ervin", "Gjika"),
        ("Lindita", "Topi"),
        ("Mimoza", "Bregu"),
        ("Fatos", "Lika"),
    ],
}

# An account of Durrës waiting for activation, to try the link a new user gets by e-mail.
AWAITING_ACTIVATION = ("durres.pmf3", Role.CHILD_PROTECTION_WORKER, "Klea", "Shehu")

# Durrës has a second administrator, and an account whose role waits for
# approval: durres.admin requested it, durres.admin2 (or the platform
# administrator) approves or refuses it. (username, role, first, last, requested by)
SECOND_PERSON_STAFF = [
    ("durres.admin2", Role.MUNICIPAL_ADMINISTRATOR, "Dafina", "Ndreu", None),
    ("durres.pmf2", Role.CHILD_PROTECTION_WORKER, "Erion", "Bushati", "durres.admin"),
]

NATIONAL_STAFF = [
    ("kombetar.statistika", Role.NATIONAL_STATISTICIAN, "Drita", "Muça"),
]
