"""Names for the demo school: varied, from many backgrounds, some with accents."""

from __future__ import annotations

FIRST_NAMES: tuple[str, ...] = (
    "Aaliyah", "Abdullah", "Adaeze", "Aditya", "Aiden", "Aisha", "Akira", "Alejandro",
    "Amara", "Amelia", "Ana", "Andrés", "Anika", "Arjun", "Ava", "Ayesha", "Benjamin",
    "Björn", "Bryce", "Camila", "Carlos", "Chen", "Chloé", "Chukwuemeka", "Daniel",
    "Dawit", "Declan", "Destiny", "Diego", "Dmitri", "Elena", "Eli", "Elif", "Emeka",
    "Emily", "Émilie", "Ethan", "Fatima", "Fernando", "Finn", "Gabriel", "Grace",
    "Hana", "Hannah", "Hiroshi", "Ibrahim", "Imani", "Inés", "Isabella", "Jabari",
    "Jackson", "Jamal", "Jasmine", "Javier", "Jaylen", "Jiho", "José", "Julián",
    "Kai", "Kavya", "Keanu", "Kenji", "Kiara", "Layla", "Leah", "Liam", "Lucía",
    "Malik", "Mariam", "María", "Mateo", "Maya", "Mei", "Mia", "Miguel", "Minh",
    "Mohammed", "Nadia", "Naomi", "Nia", "Noah", "Nuno", "Olivia", "Omar", "Oluwaseun",
    "Priya", "Rafael", "Rania", "Renée", "Riya", "Rohan", "Rosa", "Sakura", "Samuel",
    "Santiago", "Sara", "Seo-yeon", "Siobhán", "Sofía", "Soren", "Tariq", "Thandiwe",
    "Thomas", "Tomás", "Valentina", "Wei", "William", "Xavier", "Yara", "Yusuf",
    "Zainab", "Zara", "Zoë", "Zoltán",
)  # fmt: skip

LAST_NAMES: tuple[str, ...] = (
    "Abara", "Acheampong", "Adeyemi", "Ahmed", "Ali", "Álvarez", "Andersen", "Baker",
    "Bashir", "Bennett", "Bianchi", "Brontë", "Brooks", "Castillo", "Chavez", "Chen",
    "Chowdhury", "Clarke", "Cohen", "Costa", "Da Silva", "Dang", "Davis", "Díaz",
    "Dubois", "Edwards", "Eriksson", "Fernández", "Fischer", "Flores", "García",
    "Gómez", "González", "Gupta", "Haddad", "Hassan", "Hernández", "Hoang", "Hughes",
    "Ibrahim", "Ito", "Jackson", "Jensen", "Johnson", "Kaur", "Kelly", "Khan", "Kim",
    "Kowalski", "Kumar", "Lee", "Li", "López", "Martin", "Martínez", "Mbeki", "Mehta",
    "Mensah", "Miller", "Moreau", "Morales", "Müller", "Murphy", "Nakamura", "Nguyen",
    "Novak", "Nwosu", "O'Brien", "Okafor", "Olsen", "Ortiz", "Park", "Patel", "Peña",
    "Pérez", "Petrov", "Phillips", "Quispe", "Ramírez", "Reyes", "Rivera", "Robinson",
    "Rodríguez", "Rossi", "Russo", "Saito", "Sánchez", "Santos", "Schmidt", "Shah",
    "Singh", "Smith", "Søndergaard", "Sullivan", "Suzuki", "Tanaka", "Taylor",
    "Thompson", "Torres", "Tran", "Vargas", "Vásquez", "Walker", "Washington",
    "Williams", "Wójcik", "Wright", "Yamamoto", "Yilmaz", "Young", "Zhang", "Zhou",
)  # fmt: skip
