"""Invented people's names for the national dataset (`seed_scale`).

Longer lists than the demo's: with about a hundred first names for each sex
and 150 surnames, a full name is shared by a few dozen people of the half
million, not by hundreds, which is closer to a real register and makes the
name search measure a real search.
"""

FIRST_NAMES_FEMALE = (
    "Adelina", "Afërdita", "Albana", "Alketa", "Almira", "Amarda", "Ana", "Anduela",
    "Anila", "Anisa", "Antonela", "Ardita", "Arjana", "Arjola", "Arlinda", "Arta",
    "Aurela", "Aurora", "Besa", "Besiana", "Blerina", "Bora", "Brikena", "Brunilda",
    "Dafina", "Daniela", "Dea", "Denisa", "Diana", "Donika", "Dorina", "Drita",
    "Edlira", "Elda", "Elena", "Elira", "Elisa", "Elona", "Elsa", "Emanuela",
    "Enkeleda", "Entela", "Era", "Erisa", "Erjona", "Esmeralda", "Etleva", "Evisa",
    "Fatbardha", "Fjona", "Flutura", "Gentiana", "Greta", "Hana", "Ilda", "Ilira",
    "Irena", "Iris", "Jonida", "Juliana", "Kaltrina", "Klea", "Kristina", "Laura",
    "Ledia", "Lediana", "Lindita", "Lira", "Lorena", "Luljeta", "Majlinda", "Manjola",
    "Marsela", "Megi", "Merita", "Mimoza", "Mirela", "Mirjeta", "Nertila", "Nora",
    "Olta", "Ornela", "Pranvera", "Rajmonda", "Rezarta", "Rita", "Rovena", "Sara",
    "Sidorela", "Silva", "Sindi", "Sonila", "Suela", "Teuta", "Valbona", "Vjollca",
    "Xhesika", "Zamira", "Ëndrita", "Ermira",
)  # fmt: skip

FIRST_NAMES_MALE = (
    "Adrian", "Agim", "Albert", "Aldo", "Alban", "Altin", "Amarildo", "Andi",
    "Arben", "Ardit", "Arian", "Aris", "Armand", "Artan", "Arjan", "Astrit",
    "Bardhyl", "Bashkim", "Besart", "Besnik", "Blendi", "Bujar", "Dashamir", "Denis",
    "Dorian", "Dritan", "Edmond", "Egzon", "Elton", "Elvis", "Endrit", "Enea",
    "Erald", "Erion", "Ermal", "Eros", "Fatmir", "Fatos", "Fation", "Flamur",
    "Florian", "Gazmend", "Genc", "Gentian", "Gëzim", "Granit", "Henri", "Ilir",
    "Indrit", "Jetmir", "Jurgen", "Klajdi", "Klodian", "Kristi", "Kujtim", "Leart",
    "Ledion", "Lorenc", "Luan", "Marjan", "Marsel", "Mentor", "Mikel", "Nikolla",
    "Olsi", "Orges", "Orjon", "Pëllumb", "Petrit", "Redi", "Renato", "Rexhep",
    "Rigels", "Roland", "Sabri", "Saimir", "Shkëlqim", "Sokol", "Sokrat", "Taulant",
    "Tedi", "Ton", "Valon", "Vangjel", "Xhuljano", "Ylli", "Ylber", "Zef",
    "Alfred", "Dhimitër", "Eduart", "Ervin", "Gjergj", "Hysen", "Irakli", "Kastriot",
    "Lulzim", "Mirel", "Nevil", "Qemal",
)  # fmt: skip

LAST_NAMES = (
    "Alia", "Allkja", "Bajrami", "Balla", "Basha", "Beqiri", "Berisha", "Bregu",
    "Brahimi", "Bushati", "Cani", "Cela", "Cenaj", "Cuka", "Çela", "Çeliku",
    "Dautaj", "Dedja", "Demiri", "Dervishi", "Dibra", "Doda", "Duka", "Dushku",
    "Elezi", "Fejzo", "Frashëri", "Gashi", "Gjata", "Gjini", "Gjoka", "Gjoni",
    "Gjonaj", "Hajdari", "Halili", "Hasani", "Haxhiu", "Hoxha", "Hysa", "Hysaj",
    "Ibrahimi", "Islami", "Isufi", "Jaho", "Kaja", "Kalemi", "Kapllani", "Kasa",
    "Koci", "Kola", "Kolami", "Korça", "Kraja", "Kryeziu", "Kurti", "Laçi",
    "Leka", "Lika", "Lleshi", "Lushi", "Malaj", "Mala", "Mani", "Marku",
    "Meçe", "Mema", "Meta", "Mirdita", "Mucaj", "Muça", "Mulla", "Murati",
    "Ndoja", "Ndreu", "Nela", "Nikolla", "Nuri", "Osmani", "Pali", "Pasha",
    "Pepa", "Pllumi", "Prenga", "Prifti", "Qerimi", "Qosja", "Rama", "Rexha",
    "Rexhepi", "Rrapi", "Rustemi", "Salihu", "Selimi", "Shala", "Shehu", "Sheqeri",
    "Shkurti", "Sinani", "Spahiu", "Sula", "Tafa", "Tahiri", "Tare", "Thaçi",
    "Toska", "Topalli", "Tusha", "Ujka", "Veizi", "Veliu", "Vata", "Vrapi",
    "Xhafa", "Xhaferi", "Xhelili", "Ymeri", "Zaimi", "Zeneli", "Zhuli", "Zyberi",
    "Agolli", "Bici", "Bodinaku", "Cara", "Daci", "Deda", "Gega", "Gjika",
    "Kadiu", "Kalaja", "Kastrati", "Lamaj", "Mehmeti", "Memaj", "Nano", "Peci",
    "Permeti", "Qama", "Ruka", "Sadiku", "Sefa", "Troshani", "Vasili", "Zoto",
    "Hyseni", "Kurtaj", "Lala", "Musaj", "Rada", "Shkodra",
)  # fmt: skip
