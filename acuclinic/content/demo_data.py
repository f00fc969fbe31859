"""Demo patient-education content for Acuclinic: sources, citations, example people, topics and articles.

Pure data, loaded by the ``load_initial_data`` management command. Every person here is fictional and marked as an
example. Every citation is a real, checkable work; an identifier (DOI, PMID) is given only where it was verified, and
``year`` is None for living web pages that are updated in place and carry no fixed publication year.
"""

SOURCES = [  # trusted sources; "kind" is one of: nlm_database, government, journal, professional_body, medical_society
    {
        "key": "pmc",
        "name": "PubMed Central",
        "kind": "nlm_database",
        "url": "https://www.ncbi.nlm.nih.gov/pmc/",
    },
    {"key": "pubmed", "name": "PubMed", "kind": "nlm_database", "url": "https://pubmed.ncbi.nlm.nih.gov/"},
    {
        "key": "nccih",
        "name": "National Center for Complementary and Integrative Health",
        "kind": "government",
        "url": "https://www.nccih.nih.gov/",
    },
    {
        "key": "nci",
        "name": "National Cancer Institute",
        "kind": "government",
        "url": "https://www.cancer.gov/",
    },
    {
        "key": "cms",
        "name": "Centers for Medicare & Medicaid Services",
        "kind": "government",
        "url": "https://www.cms.gov/",
    },
    {
        "key": "nice",
        "name": "National Institute for Health and Care Excellence (UK)",
        "kind": "government",
        "url": "https://www.nice.org.uk/",
    },
    {
        "key": "nccaom",
        "name": "National Certification Commission for Acupuncture and Oriental Medicine (NCCAOM)",
        "kind": "professional_body",
        "url": "https://www.nccaom.org/",
    },
    {
        "key": "acp",
        "name": "American College of Physicians",
        "kind": "medical_society",
        "url": "https://www.acponline.org/",
    },
    {
        "key": "cochrane",
        "name": "Cochrane Database of Systematic Reviews",
        "kind": "journal",
        "url": "https://www.cochranelibrary.com/",
    },
]

CITATIONS = [
    # --- Research on acupuncture and back pain -------------------------------------------------------------------
    {
        "key": "vickers2018",
        "title": "Acupuncture for Chronic Pain: Update of an Individual Patient Data Meta-Analysis",
        "authors": "Vickers AJ, Vertosick EA, Lewith G, et al.",
        "year": 2018,
        "source": "pmc",
        "container": "The Journal of Pain",
        "url": "https://www.ncbi.nlm.nih.gov/pmc/articles/PMC5927830/",
        "doi": "10.1016/j.jpain.2017.11.005",
        "pmid": "29198932",
    },
    {
        "key": "qaseem2017",
        "title": "Noninvasive Treatments for Acute, Subacute, and Chronic Low Back Pain: "
        "A Clinical Practice Guideline From the American College of Physicians",
        "authors": "Qaseem A, Wilt TJ, McLean RM, Forciea MA; Clinical Guidelines Committee of the American College "
        "of Physicians",
        "year": 2017,
        "source": "acp",
        "container": "Annals of Internal Medicine",
        "url": "https://www.acpjournals.org/doi/10.7326/M16-2367",
        "doi": "10.7326/M16-2367",
        "pmid": "28192789",
    },
    {
        "key": "chou2007",
        "title": "Diagnosis and Treatment of Low Back Pain: A Joint Clinical Practice Guideline from the American "
        "College of Physicians and the American Pain Society",
        "authors": "Chou R, Qaseem A, Snow V, et al.",
        "year": 2007,
        "source": "pubmed",
        "container": "Annals of Internal Medicine",
        "url": "https://pubmed.ncbi.nlm.nih.gov/17909209/",
        "doi": "10.7326/0003-4819-147-7-200710020-00006",
        "pmid": "17909209",
    },
    {
        "key": "chou2017",
        "title": "Nonpharmacologic Therapies for Low Back Pain: A Systematic Review for an American College of "
        "Physicians Clinical Practice Guideline",
        "authors": "Chou R, Deyo R, Friedly J, et al.",
        "year": 2017,
        "source": "pubmed",
        "container": "Annals of Internal Medicine",
        "url": "https://pubmed.ncbi.nlm.nih.gov/28192793/",
        "doi": "10.7326/M16-2459",
        "pmid": "28192793",
    },
    {
        "key": "haake2007",
        "title": "German Acupuncture Trials (GERAC) for Chronic Low Back Pain: Randomized, Multicenter, Blinded, "
        "Parallel-Group Trial With 3 Groups",
        "authors": "Haake M, Müller HH, Schade-Brittinger C, et al.",
        "year": 2007,
        "source": "pubmed",
        "container": "Archives of Internal Medicine",
        "url": "https://pubmed.ncbi.nlm.nih.gov/17893311/",
        "doi": "10.1001/archinte.167.17.1892",
        "pmid": "17893311",
    },
    {
        "key": "cherkin2009",
        "title": "A Randomized Trial Comparing Acupuncture, Simulated Acupuncture, and Usual Care for Chronic Low "
        "Back Pain",
        "authors": "Cherkin DC, Sherman KJ, Avins AL, et al.",
        "year": 2009,
        "source": "pmc",
        "container": "Archives of Internal Medicine",
        "url": "https://www.ncbi.nlm.nih.gov/pmc/articles/PMC2832641/",
        "doi": "10.1001/archinternmed.2009.65",
        "pmid": "19433697",
    },
    {
        "key": "dworkin2008",
        "title": "Interpreting the Clinical Importance of Treatment Outcomes in Chronic Pain Clinical Trials: "
        "IMMPACT Recommendations",
        "authors": "Dworkin RH, Turk DC, Wyrwich KW, et al.",
        "year": 2008,
        "source": "pubmed",
        "container": "The Journal of Pain",
        "url": "https://pubmed.ncbi.nlm.nih.gov/18055266/",
        "doi": "10.1016/j.jpain.2007.09.005",
        "pmid": "18055266",
    },
    # --- Safety ----------------------------------------------------------------------------------------------------
    {
        "key": "witt2009",
        "title": "Safety of Acupuncture: Results of a Prospective Observational Study with 229,230 Patients and "
        "Introduction of a Medical Information and Consent Form",
        "authors": "Witt CM, Pach D, Brinkhaus B, Wruck K, Tag B, Mank S, Willich SN",
        "year": 2009,
        "source": "pubmed",
        "container": "Forschende Komplementärmedizin",
        "url": "https://pubmed.ncbi.nlm.nih.gov/19420954/",
        "doi": "10.1159/000209315",
        "pmid": "19420954",
    },
    {
        # Identifiers left blank on purpose: title, authors, journal and year were verified, PMID and DOI were not.
        "key": "macpherson2005",
        "title": "Short term reactions to acupuncture – a cross-sectional survey of patient reports",
        "authors": "MacPherson H, Thomas K",
        "year": 2005,
        "source": "pubmed",
        "container": "Acupuncture in Medicine",
        "url": "https://pubmed.ncbi.nlm.nih.gov/?term=MacPherson+Thomas+Short+term+reactions+to+acupuncture",
        "doi": "",
        "pmid": "",
    },
    # --- Massage ---------------------------------------------------------------------------------------------------
    {
        "key": "furlan2015",
        "title": "Massage for low-back pain",
        "authors": "Furlan AD, Giraldo M, Baskwill A, Irvin E, Imamura M",
        "year": 2015,
        "source": "cochrane",
        "container": "Cochrane Database of Systematic Reviews",
        "url": "https://www.cochranelibrary.com/cdsr/doi/10.1002/14651858.CD001929.pub3/full",
        "doi": "10.1002/14651858.CD001929.pub3",
        "pmid": "26329399",
    },
    {
        "key": "cherkin2011",
        "title": "A Comparison of the Effects of 2 Types of Massage and Usual Care on Chronic Low Back Pain: "
        "A Randomized, Controlled Trial",
        "authors": "Cherkin DC, Sherman KJ, Kahn J, et al.",
        "year": 2011,
        "source": "pubmed",
        "container": "Annals of Internal Medicine",
        "url": "https://pubmed.ncbi.nlm.nih.gov/21727288/",
        "doi": "10.7326/0003-4819-155-1-201107050-00002",
        "pmid": "21727288",
    },
    # --- Web pages of public bodies (updated in place; no fixed year) ------------------------------------------
    {
        "key": "nccih-acupuncture",
        "title": "Acupuncture: Effectiveness and Safety",
        "authors": "National Center for Complementary and Integrative Health",
        "year": None,
        "source": "nccih",
        "container": "NCCIH health information",
        "url": "https://www.nccih.nih.gov/health/acupuncture-effectiveness-and-safety",
        "doi": "",
        "pmid": "",
    },
    {
        "key": "nccih-lbp",
        "title": "Low Back Pain and Complementary Health Approaches: What the Science Says",
        "authors": "National Center for Complementary and Integrative Health",
        "year": None,
        "source": "nccih",
        "container": "NCCIH clinical digest for health professionals",
        "url": "https://www.nccih.nih.gov/health/providers/digest/low-back-pain-and-complementary-health-approaches-science",
        "doi": "",
        "pmid": "",
    },
    {
        "key": "nci-pdq-acupuncture",
        "title": "Acupuncture (PDQ®)–Patient Version",
        "authors": "PDQ Integrative, Alternative, and Complementary Therapies Editorial Board",
        "year": None,
        "source": "nci",
        "container": "PDQ Cancer Information Summaries",
        "url": "https://www.cancer.gov/about-cancer/treatment/cam/patient/acupuncture-pdq",
        "doi": "",
        "pmid": "",
    },
    {
        "key": "cms-ncd-30-3-3",
        "title": "National Coverage Determination 30.3.3: Acupuncture for Chronic Lower Back Pain (cLBP)",
        "authors": "Centers for Medicare & Medicaid Services",
        "year": 2020,
        "source": "cms",
        "container": "Medicare National Coverage Determinations Manual (Pub. 100-03)",
        "url": "https://www.cms.gov/medicare-coverage-database/view/ncd.aspx?ncdid=373",
        "doi": "",
        "pmid": "",
    },
    {
        "key": "nice-ng59",
        "title": "Low back pain and sciatica in over 16s: assessment and management (NICE guideline NG59)",
        "authors": "National Institute for Health and Care Excellence",
        "year": 2016,
        "source": "nice",
        "container": "NICE guidelines",
        "url": "https://www.nice.org.uk/guidance/ng59",
        "doi": "",
        "pmid": "",
    },
    {
        "key": "nccaom-find",
        "title": "How do I find an acupuncturist or an Oriental medicine practitioner?",
        "authors": "National Certification Commission for Acupuncture and Oriental Medicine",
        "year": None,
        "source": "nccaom",
        "container": "NCCAOM Help Center",
        "url": "https://help.nccaom.org/hc/en-us/articles/360009708013-How-do-I-find-an-acupuncturist-or-an-Oriental-medicine-practitioner",
        "doi": "",
        "pmid": "",
    },
]

PEOPLE = [  # demo people: fictional, clearly examples
    {
        "key": "author-1",
        "name": "Sam Example",
        "credentials": "MPH",
        "roles": ["author"],
        "bio": "Example profile — Sam Example is a made-up health writer. This profile only shows how an author page "
        "looks. Replace it with a real author before you publish.",
        "is_example": True,
    },
    {
        "key": "author-2",
        "name": "Robin Sample",
        "credentials": "MA",
        "roles": ["author"],
        "bio": "Example profile — Robin Sample is a made-up patient-education editor. This profile only shows how "
        "an author page looks. Replace it with a real author before you publish.",
        "is_example": True,
    },
    {
        "key": "reviewer-1",
        "name": "Alex Placeholder",
        "credentials": "D.Ac., M.S., L.Ac., Dipl. Ac.",
        "roles": ["reviewer"],
        "bio": "Example profile — Alex Placeholder is a made-up licensed acupuncturist. This profile only shows how "
        "a medical reviewer page looks. Replace it with a real, licensed reviewer before you publish.",
        "is_example": True,
    },
    {
        "key": "reviewer-2",
        "name": "Jordan Demo",
        "credentials": "MD, physical medicine and rehabilitation",
        "roles": ["reviewer"],
        "bio": "Example profile — Jordan Demo is a made-up physician. This profile only shows how a medical "
        "reviewer page looks. Replace it with a real, licensed reviewer before you publish.",
        "is_example": True,
    },
]

TOPICS = [
    {
        "key": "back-pain",
        "title": "Back pain",
        "intro": "Plain-language articles about low back pain: how long it lasts, which warning signs need a doctor, "
        "and which treatments may help, including acupuncture. A licensed clinician reviews every article.",
    },
    {
        "key": "acupuncture-basics",
        "title": "Acupuncture basics",
        "intro": "What to expect from acupuncture: your first visit, side effects and safety, and how to find a "
        "licensed practitioner.",
    },
]

ARTICLES = [
    # 1 ------------------------------------------------------------------------------------------------------------
    {
        "slug": "acupuncture-for-back-pain-research",
        "title": "Acupuncture for back pain: what the research says",
        "standfirst": "Acupuncture helps some people with long-lasting low back pain, but the benefit is modest and "
        "experts disagree about why it works. Here is what the studies show, in plain words.",
        "topics": ["back-pain"],
        "author": "author-1",
        "reviewer": "reviewer-1",
        "last_reviewed": "2026-09-14",
        "hero_alt": "Decorative abstract illustration in deep teal and pale mint, made of soft overlapping curves.",
        "hero_credit": "Illustration: Acuclinic demo content",
        "hero_palette": ["#2f6f73", "#e9f2f1"],
        "body": [
            {"type": "heading", "text": "Two expert groups, two answers"},
            {
                "type": "paragraph",
                "text": "<p>Doctors do not all agree about acupuncture for back pain. In 2017 the American College "
                "of Physicians, a large US doctors' group, looked at the research. It listed acupuncture as one of "
                "several non-drug treatments to try <b>first</b> for low back pain that has lasted more than 12 "
                "weeks. Exercise, yoga, tai chi and mindfulness are on the same list.</p>"
                "<p>A year earlier, the UK's National Institute for Health and Care Excellence (NICE) weighed much "
                "of the same research. It came to the opposite view. It told doctors in England not to offer "
                "acupuncture for low back pain.</p>",
                "cite": ["qaseem2017", "nice-ng59"],
            },
            {"type": "heading", "text": "What the big studies found"},
            {
                "type": "paragraph",
                "text": "<p>The largest review so far combined the results of more than 20,000 people from 39 trials "
                "of acupuncture for long-lasting pain, including back and neck pain. People who had acupuncture did "
                "better than people who had none. They also did a little better than people who had fake, or "
                "“sham”, acupuncture. The extra benefit over sham was small. A year after treatment, most of the "
                "benefit was still there.</p>",
                "cite": ["vickers2018"],
            },
            {
                "type": "paragraph",
                "text": "<p>Two large back-pain trials show why the debate goes on. In a German trial of more than "
                "1,100 people, about 48 in 100 improved after real acupuncture and about 44 in 100 after sham "
                "needling. Only about 27 in 100 improved with usual care of medicines, physical therapy and "
                "exercise. A US trial of 638 people found something similar. A toothpick pressed on the skin, with "
                "no needle going in, helped about as much as real needling. Both did better than usual care.</p>",
                "cite": ["haake2007", "cherkin2009"],
            },
            {
                "type": "callout",
                "tone": "info",
                "title": "What is sham acupuncture?",
                "text": "Sham acupuncture is a pretend treatment used in research. The needles may go in at the "
                "wrong spots, go in only a little, or not go in at all. It helps researchers tell how much of the "
                "benefit comes from the needles and how much comes from the visit, the care and your own hopes.",
            },
            {"type": "heading", "text": "How acupuncture is thought to work"},
            {
                "type": "paragraph",
                "text": "<p>Nobody knows for sure. Research points to a mix of things. Needling seems to change how "
                "your nerves and brain handle pain signals. It may also act on the tissue around each needle. And "
                "part of the benefit comes from the whole experience: time to rest, a caring practitioner and your "
                "belief that it will help. Doctors call these <i>non-specific</i> effects. They are real, but they "
                "are not unique to acupuncture.</p>",
                "cite": ["nccih-acupuncture"],
            },
            {"type": "heading", "text": "What this means for you"},
            {
                "type": "paragraph",
                "text": "<p>Reviews of many non-drug treatments for back pain tell a similar story. On average, "
                "acupuncture eases pain by a small to moderate amount, and the effect often fades in the months "
                "after treatment stops. It helps daily activities a little less than it helps pain. Exercise, "
                "massage and spinal manipulation give results of a similar size. When a trained practitioner "
                "does it, serious harm from acupuncture is rare.</p>",
                "cite": ["chou2017", "nccih-lbp"],
            },
            {
                "type": "list",
                "style": "bulleted",
                "items": [
                    "Acupuncture is a reasonable option to try for long-lasting low back pain, along with staying "
                    "active.",
                    "Expect modest help, not a cure. Some people feel much better; some feel no change.",
                    "Give it a fair trial, often about 6 weekly sessions, then check with your practitioner "
                    "whether it is working.",
                    "Keep seeing your doctor. Acupuncture does not replace a check for serious causes of back "
                    "pain.",
                ],
            },
            {
                "type": "related",
                "slug": "choosing-a-licensed-acupuncturist",
                "text": "Learn how to choose a licensed acupuncturist",
            },
        ],
        "takeaways": [
            "US guidelines list acupuncture as a first-choice non-drug option for chronic low back pain. UK "
            "guidelines advise against it.",
            "On average, acupuncture helps more than no acupuncture and a little more than sham acupuncture.",
            "Expect modest relief, and check your progress after a few sessions.",
        ],
        "faq": [
            {
                "question": "Is acupuncture just a placebo?",
                "answer": "<p>Not only. When the results of many trials are combined, real acupuncture does a little "
                "better than sham. But the gap is small, and much of the benefit seems to come from the treatment "
                "as a whole. Researchers still argue about what that means.</p>",
                "cite": ["vickers2018", "haake2007"],
            },
            {
                "question": "Why do US and UK guidelines disagree?",
                "answer": "<p>The two expert groups weighed the same kind of studies in different ways. NICE gave "
                "most weight to the small gap between real and sham needling. The American College of Physicians "
                "looked at how much people improved overall compared with other care.</p>",
                "cite": ["qaseem2017", "nice-ng59"],
            },
            {
                "question": "How long does the benefit last?",
                "answer": "<p>In the largest combined analysis, most of the benefit was still there a year after "
                "treatment, with only a small fall. Your own result may be different.</p>",
                "cite": ["vickers2018"],
            },
            {
                "question": "Does acupuncture help back pain that started recently?",
                "answer": "<p>There is less research on this. US guidelines list acupuncture as one option for "
                "recent back pain, but the evidence is weak. Most new back pain gets better within a few weeks "
                "anyway.</p>",
                "cite": ["qaseem2017", "chou2017"],
            },
        ],
        "related": [
            "chronic-vs-acute-back-pain",
            "acupuncture-or-massage-for-back-pain",
            "first-acupuncture-visit",
        ],
    },
    # 2 ------------------------------------------------------------------------------------------------------------
    {
        "slug": "chronic-vs-acute-back-pain",
        "title": "Chronic or acute back pain: what is the difference?",
        "standfirst": "Doctors sort back pain by how long it has lasted. Here is what acute, subacute and chronic "
        "mean, why it matters for your treatment, and which warning signs need help fast.",
        "topics": ["back-pain"],
        "author": "author-2",
        "reviewer": "reviewer-2",
        "last_reviewed": "2026-03-02",
        "hero_alt": "Decorative abstract illustration in warm rust and soft cream, made of layered wave shapes.",
        "hero_credit": "Illustration: Acuclinic demo content",
        "hero_palette": ["#a4542f", "#f7efe6"],
        "body": [
            {"type": "heading", "text": "Back pain is sorted by time"},
            {
                "type": "paragraph",
                "text": "<p>Doctors often describe low back pain by how long it has lasted, not by how bad it "
                "feels. The exact cut-offs differ a little between guidelines. Many use 6 weeks as the end of the "
                "acute stage. Some, including the American College of Physicians, use 4 weeks. Nearly all "
                "agree that pain lasting more than about 3 months (12 weeks) is chronic. Subacute is the stage in between. "
                "These labels describe time only. They do not tell you what is causing the pain or how serious it "
                "is.</p>",
                "cite": ["qaseem2017"],
            },
            {
                "type": "list",
                "style": "numbered",
                "items": [
                    "Acute: pain for less than about 6 weeks (some guidelines say 4 weeks). It often starts "
                    "suddenly, for example after lifting or twisting.",
                    "Subacute: pain that has lasted from about 6 weeks up to 12 weeks.",
                    "Chronic: pain that has lasted more than 3 months. Medicare counts 12 weeks or more.",
                ],
            },
            {"type": "heading", "text": "Why the difference matters"},
            {
                "type": "paragraph",
                "text": "<p>Most acute back pain gets much better within a few weeks, whatever you do. So early on, "
                "the aim is to stay as active as you can and ease the pain while your back settles. Heat, massage, "
                "acupuncture or spinal manipulation help some people. Bed rest is not advised: gentle walking and "
                "your normal daily tasks, as far as the pain allows, tend to help you recover. X-rays and scans are "
                "rarely needed unless there are warning signs.</p>",
                "cite": ["qaseem2017", "chou2007"],
            },
            {
                "type": "paragraph",
                "text": "<p>Chronic back pain is different. It may come and go for months or years. Guidelines "
                "suggest you start with non-drug care, such as exercise, rehabilitation programs, acupuncture, "
                "yoga, tai chi or mindfulness. Medicines can be added if these are not enough. The goal is often to "
                "do more of what matters to you, even if some pain stays. Progress is often slow, so it helps to track "
                "how you are doing over weeks, not days.</p>",
                "cite": ["qaseem2017", "chou2017"],
            },
            {"type": "heading", "text": "Warning signs you should never ignore"},
            {
                "type": "callout",
                "tone": "urgent",
                "title": "When to get help now",
                "text": "Call 911 or go to an emergency department now if you have back pain with any of these: new "
                "trouble passing urine or controlling your bladder or bowels; numbness around your genitals, "
                "buttocks or inner thighs; pain or numbness going down both legs; leg weakness that is severe or "
                "getting worse; or new problems with sexual function. These can be signs of pressure on the nerves "
                "at the base of the spine. Do not wait for an acupuncture appointment.",
            },
            {
                "type": "callout",
                "tone": "warning",
                "title": "Get medical care today",
                "text": "See a doctor the same day if you have back pain with a fever or chills; if you inject "
                "drugs, have a weak immune system or have recently had an infection; or if numbness or weakness is "
                "new or getting worse.",
            },
            {
                "type": "paragraph",
                "text": "<p>Some signs are not an emergency, but they do mean a doctor should check you before, or "
                "alongside, acupuncture. They can point to a cause that needs other care. See a doctor soon "
                "if:</p>",
                "cite": ["chou2007"],
            },
            {
                "type": "list",
                "style": "bulleted",
                "items": [
                    "You have had cancer.",
                    "You are losing weight without trying.",
                    "Your back pain is new and you are under 20 or over 50.",
                    "The pain is worse at night or when you rest.",
                    "The pain started after a fall or injury, especially if you have thin bones or take steroid "
                    "medicine.",
                    "The pain is no better after a month.",
                ],
            },
            {
                "type": "related",
                "slug": "acupuncture-for-back-pain-research",
                "text": "Read what the research says about acupuncture for back pain",
            },
        ],
        "takeaways": [
            "Acute back pain lasts weeks. Chronic back pain lasts more than 3 months.",
            "Most acute back pain eases within a few weeks, so staying active matters.",
            "Some symptoms with back pain are an emergency: call 911.",
        ],
        "faq": [
            {
                "question": "Can acute back pain turn into chronic back pain?",
                "answer": "<p>Yes, for some people. Most people feel much better within a month. But up to 1 in 3 "
                "still have pain of at least moderate strength a year later. Staying active and getting the right help early may lower that "
                "chance.</p>",
                "cite": ["chou2007"],
            },
            {
                "question": "Does Medicare use the same definition of chronic pain?",
                "answer": "<p>For acupuncture, Medicare counts low back pain as chronic when it has lasted 12 weeks "
                "or more, has no known cause such as cancer or infection, and is not linked to surgery or "
                "pregnancy.</p>",
                "cite": ["cms-ncd-30-3-3"],
            },
            {
                "question": "Should I get an X-ray or MRI?",
                "answer": "<p>Usually not at first. Scans rarely change treatment for ordinary back pain. Doctors "
                "order them when there are warning signs, such as serious nerve problems, or when surgery or an "
                "injection is being considered.</p>",
                "cite": ["chou2007"],
            },
            {
                "question": "Is acupuncture only for chronic back pain?",
                "answer": "<p>No, but most of the research is in chronic pain. US guidelines list acupuncture as an "
                "option for recent back pain too, with weaker evidence. Medicare pays for it only for chronic low "
                "back pain.</p>",
                "cite": ["qaseem2017", "cms-ncd-30-3-3"],
            },
        ],
        "related": ["acupuncture-for-back-pain-research", "first-acupuncture-visit"],
    },
    # 3 ------------------------------------------------------------------------------------------------------------
    {
        "slug": "first-acupuncture-visit",
        "title": "What happens at your first acupuncture visit",
        "standfirst": "Your first visit starts with questions, not needles. Here is how to prepare, what the "
        "treatment feels like, and how many sessions people usually have.",
        "topics": ["back-pain", "acupuncture-basics"],
        "author": "author-1",
        "reviewer": "reviewer-1",
        # Reviewed 2025-12-03: the yearly re-review falls due 2026-12-03, so the demo report has an item.
        "last_reviewed": "2025-12-03",
        "hero_alt": "Decorative abstract illustration in calm navy blue and pale sky blue, made of rounded shapes.",
        "hero_credit": "Illustration: Acuclinic demo content",
        "hero_palette": ["#23486b", "#e6eff7"],
        "body": [
            {"type": "heading", "text": "Before you come"},
            {
                "type": "list",
                "style": "bulleted",
                "items": [
                    "Eat a light meal 1 to 2 hours before. Having acupuncture on an empty stomach can make you "
                    "feel faint.",
                    "Wear loose clothes that you can roll up above your knees and elbows.",
                    "Bring a list of all your medicines, including blood thinners, vitamins and herbal products.",
                    "Bring notes about your back pain: when it started, what makes it better or worse, and what "
                    "you have tried.",
                ],
            },
            {"type": "heading", "text": "What we will ask you"},
            {
                "type": "paragraph",
                "text": "<p>Your first visit takes longer than later ones. Your acupuncturist will ask about your "
                "symptoms, the treatments you have already tried, your other health conditions and the medicines "
                "you take. Please tell us if you are pregnant, have a pacemaker, have a bleeding problem or take "
                "medicine that thins your blood. These do not always rule out acupuncture, but they change how we "
                "treat you. We will also ask you to rate your pain and how much it gets in the way of daily life. "
                "We may check how you move and where your back feels tender. It also helps to tell your own doctor "
                "that you are having acupuncture.</p>",
                "cite": ["nccih-acupuncture", "nci-pdq-acupuncture"],
            },
            {"type": "heading", "text": "During the treatment"},
            {
                "type": "paragraph",
                "text": "<p>At your first session you will lie down. This makes fainting less likely. The "
                "practitioner cleans your skin and places very thin needles at chosen points. They are solid and much finer than the needles used for injections. Every needle is "
                "sterile, used once and then thrown away. In the US, acupuncture needles are medical devices "
                "regulated by the Food and Drug Administration (FDA). Most people feel a quick prick, then a dull "
                "ache, tingling or heaviness. The needles stay in while you rest. A whole session takes about 30 "
                "minutes.</p>",
                "cite": ["nccih-acupuncture", "nci-pdq-acupuncture"],
            },
            {
                "type": "callout",
                "tone": "tip",
                "title": "Speak up at any time",
                "text": "If a needle hurts sharply, or you feel dizzy, sick or faint, tell your practitioner "
                "straight away. They can take the needle out or move it. You are in charge, and you can stop at "
                "any point.",
            },
            {"type": "heading", "text": "How many sessions?"},
            {
                "type": "paragraph",
                "text": "<p>In large trials for back pain, people had about 10 sessions over 5 to 7 weeks. At our "
                "clinic we usually see you once a week at first. After about 6 sessions we check together whether "
                "it is helping. If it is, we carry on to about 10 sessions. Then we space visits out, to every 2 "
                "weeks and then monthly, as long as the relief holds. If nothing has changed, we talk about other "
                "options with you.</p>",
                "cite": ["haake2007", "cherkin2009"],
            },
            {
                "type": "paragraph",
                "text": "<p>To track your progress, we ask you to rate your pain from 0 (no pain) to 10 (the worst "
                "pain you can imagine) at each visit. Pain experts count a drop of about 30%, or about 2 "
                "points, as a meaningful change. A drop of half or more is a big improvement.</p>",
                "cite": ["dworkin2008"],
            },
            {
                "type": "paragraph",
                "text": "<p>After your session, sit up slowly and take a moment before you stand. About 1 in 4 people "
                "feel tired or drowsy after acupuncture. Plan a "
                "quiet rest of the day after your first visit, and do not drive if you feel sleepy. Some people "
                "notice a change after one session. For others it takes several.</p>",
                "cite": ["macpherson2005"],
            },
            {
                "type": "related",
                "slug": "acupuncture-side-effects-safety",
                "text": "Read about the side effects and safety of acupuncture",
            },
        ],
        "takeaways": [
            "Eat 1 to 2 hours before your visit, and bring a list of your medicines.",
            "Needles are sterile and used only once. A session takes about 30 minutes.",
            "We check your progress after about 6 weekly sessions and plan the next steps with you.",
        ],
        "faq": [
            {
                "question": "Does acupuncture hurt?",
                "answer": "<p>Most people feel only a quick prick and then a dull ache. Some soreness afterwards is "
                "common: in a large UK survey, about 3 in 10 people had some pain or bruising where the needles "
                "went in.</p>",
                "cite": ["macpherson2005"],
            },
            {
                "question": "How long does each visit take?",
                "answer": "<p>A treatment session takes about 30 minutes, as in the large back-pain trials. Your "
                "first visit is longer, because we take time to ask about your health.</p>",
                "cite": ["haake2007"],
            },
            {
                "question": "Can I drive home afterwards?",
                "answer": "<p>Most people can. But about 1 in 4 people feel tired or drowsy after a session. If you "
                "feel sleepy, do not drive. For your first visit, it may help to have someone take you home.</p>",
                "cite": ["macpherson2005"],
            },
            {
                "question": "Should I stop taking my medicines?",
                "answer": "<p>No. Never stop a prescribed medicine without talking to your doctor. Just tell us "
                "everything you take, including supplements, so we can treat you safely.</p>",
                "cite": ["nccih-acupuncture"],
            },
        ],
        "related": ["acupuncture-side-effects-safety", "choosing-a-licensed-acupuncturist"],
    },
    # 4 ------------------------------------------------------------------------------------------------------------
    {
        "slug": "acupuncture-side-effects-safety",
        "title": "Side effects and safety of acupuncture",
        "standfirst": "Acupuncture is generally safe in trained hands, but it is not free of risk. Here are the "
        "common after-effects, the rare complications, and when to tell us or get help.",
        "topics": ["back-pain", "acupuncture-basics"],
        "author": "author-2",
        "reviewer": "reviewer-2",
        "last_reviewed": "2026-06-18",
        "hero_alt": "Decorative abstract illustration in forest green and soft sand, made of gentle stacked bands.",
        "hero_credit": "Illustration: Acuclinic demo content",
        "hero_palette": ["#3d6b45", "#f3f0e4"],
        "body": [
            {"type": "heading", "text": "How safe is acupuncture?"},
            {
                "type": "paragraph",
                "text": "<p>When a trained, licensed practitioner uses sterile needles, acupuncture has a good "
                "safety record. Problems are more likely when it is done by someone without proper training or "
                "without clean technique. Serious harm is rare. Minor after-effects are common, and most go away on "
                "their own. Knowing what to expect helps you tell a normal reaction from one that needs care.</p>",
                "cite": ["nccih-acupuncture", "nci-pdq-acupuncture"],
            },
            {
                "type": "paragraph",
                "text": "<p>A large German study followed more than 229,000 people who had about 10 sessions each. "
                "About 9 in 100 (8.6%) reported at least one side effect. The most common was bleeding or a bruise "
                "where a needle went in (6.1%). Next came pain from the needle (1.7%) and feeling dizzy, faint or "
                "sick (0.7%). Only about 2 in 100 people (2.2%) needed any treatment for a side effect. The rest "
                "did not need any care for them.</p>",
                "cite": ["witt2009"],
            },
            {"type": "heading", "text": "Common after-effects"},
            {
                "type": "paragraph",
                "text": "<p>A UK survey asked more than 9,000 people how they felt right after a session. About 1 in "
                "4 felt tired or drowsy. About 3 in 10 had some pain or bruising where the needles went in. Many "
                "also said they felt relaxed. These effects are usually mild and do not last long. You may "
                "notice:</p>",
                "cite": ["macpherson2005"],
            },
            {
                "type": "list",
                "style": "bulleted",
                "items": [
                    "Soreness or a dull ache where the needles went in",
                    "A small bruise or a drop of blood at a needle site",
                    "Feeling tired or sleepy after a session",
                    "Feeling light-headed, dizzy or faint, most often at a first visit",
                    "Your usual pain getting a little worse for a day or so before it eases",
                ],
            },
            {"type": "heading", "text": "Rare but serious complications"},
            {
                "type": "list",
                "style": "bulleted",
                "items": [
                    "A collapsed lung (pneumothorax), if a needle goes too deep in the chest, shoulder or upper "
                    "back",
                    "An infection at a needle site, or a wider infection if needles are not sterile",
                    "Injury to a nerve or a blood vessel",
                    "A needle that breaks, or one left in the skin by mistake",
                    "A fall or injury caused by fainting",
                ],
            },
            {
                "type": "paragraph",
                "text": "<p>In the German study there were 2 cases of collapsed lung among more than 229,000 people. "
                "A new set of sterile, single-use needles for every patient, good training and careful needle "
                "counts make problems like these much less likely. At our clinic we count every needle in and "
                "every needle out.</p>",
                "cite": ["witt2009", "nci-pdq-acupuncture"],
            },
            {
                "type": "callout",
                "tone": "urgent",
                "title": "When to get help now",
                "text": "Call 911 or go to an emergency department if, after a session, you have sudden chest pain "
                "or trouble breathing; you faint and do not quickly come round; or you have new weakness or "
                "numbness in your legs, or new trouble controlling your bladder or bowels.",
            },
            {
                "type": "callout",
                "tone": "info",
                "title": "Tell us what we need to know",
                "text": "Let us know about anything that worries you after a session, even if it seems small. Call "
                "the clinic or your doctor the same day if a needle site becomes hot, red, swollen or oozing, or "
                "if you get a fever. We record every side effect so we can keep your care safe. Before treatment, "
                "tell us if you have a lung disease such as emphysema, so we can take extra care near the chest "
                "and upper back.",
            },
            {
                "type": "related",
                "slug": "choosing-a-licensed-acupuncturist",
                "text": "Learn how to choose a licensed acupuncturist",
            },
        ],
        "takeaways": [
            "About 9 in 100 people have a side effect, most often a small bruise.",
            "Serious problems, such as a collapsed lung, are very rare with a trained practitioner.",
            "Call 911 for sudden chest pain or trouble breathing after a session.",
            "Tell us about any side effect, even a small one.",
        ],
        "faq": [
            {
                "question": "Is it normal to feel worse after acupuncture?",
                "answer": "<p>Short-lived reactions after a session are common and usually mild. Some people notice "
                "their usual pain flare for a day or so. Tell us if it is severe or lasts more than a few "
                "days.</p>",
                "cite": ["macpherson2005"],
            },
            {
                "question": "Who needs to take extra care?",
                "answer": "<p>Tell us if you are pregnant, have a bleeding problem or take blood thinners, have a "
                "pacemaker, have a weak immune system or diabetes, have a skin infection where needles might go, "
                "or have seizures. Acupuncture may still be possible, but we will change how we treat you.</p>",
                "cite": ["nci-pdq-acupuncture", "nccih-acupuncture"],
            },
            {
                "question": "Can acupuncture give me an infection?",
                "answer": "<p>It is rare. In the US, acupuncture needles must be sterile and labeled for single use. "
                "We open a new pack of needles for every patient and throw each needle away after use.</p>",
                "cite": ["nccih-acupuncture"],
            },
            {
                "question": "Should I report a side effect even if it has gone away?",
                "answer": "<p>Yes, please. Even minor reactions help us plan your next session, and records of side "
                "effects are how clinics and researchers learn what is safe.</p>",
                "cite": ["witt2009"],
            },
        ],
        "related": ["first-acupuncture-visit", "choosing-a-licensed-acupuncturist"],
    },
    # 5 ------------------------------------------------------------------------------------------------------------
    {
        "slug": "choosing-a-licensed-acupuncturist",
        "title": "How to choose a licensed acupuncturist",
        "standfirst": "Look for a state license and, ideally, national board certification. Here is how to check, "
        "what to ask, and when Medicare helps pay.",
        "topics": ["back-pain", "acupuncture-basics"],
        "author": "author-1",
        "reviewer": "reviewer-1",
        "last_reviewed": "2026-01-20",
        "hero_alt": "Decorative abstract illustration in plum purple and pale lilac, made of overlapping circles.",
        "hero_credit": "Illustration: Acuclinic demo content",
        "hero_palette": ["#5b3a6e", "#f1ebf5"],
        "body": [
            {"type": "heading", "text": "What the letters mean"},
            {
                "type": "paragraph",
                "text": "<p>In the US, each state decides who may practice acupuncture. A licensed acupuncturist "
                "uses the letters <b>L.Ac.</b> after their name. That license comes from a state board. <b>Dipl. "
                "Ac.</b> means the person is board certified in acupuncture by the NCCAOM, a national certification "
                "body. Most states ask for NCCAOM certification, or a pass in its exams, before they grant a "
                "license. Many acupuncturists hold both. Rules differ from state to state and can change, so check the rules where you live.</p>",
                "cite": ["nccaom-find"],
            },
            {
                "type": "paragraph",
                "text": "<p>Some doctors, chiropractors and other health workers also offer acupuncture. Their "
                "training in it varies a lot. Whoever you see, ask about their training, their license and their "
                "experience with back pain. Make sure they use a new set of sterile, single-use needles for each "
                "patient. If anything feels wrong, such as needles being reused, you can stop the session and "
                "leave.</p>",
                "cite": ["nccih-acupuncture", "nci-pdq-acupuncture"],
            },
            {"type": "heading", "text": "How to check a license"},
            {
                "type": "list",
                "style": "numbered",
                "items": [
                    "Ask for the practitioner's full name and license number.",
                    "Look them up on the website of your state's acupuncture board or medical board. If you are not "
                    "sure which board it is, your state health department can tell you.",
                    "Check that the license is active, and look for any disciplinary actions.",
                    "To check board certification, search the NCCAOM Find a Practitioner directory.",
                    "Make sure they are licensed in the state where you will be treated.",
                ],
            },
            {"type": "heading", "text": "Questions to ask"},
            {
                "type": "list",
                "style": "bulleted",
                "items": [
                    "Are you licensed in this state? Are you NCCAOM board certified?",
                    "How often do you treat back pain?",
                    "Do you use a new set of sterile, single-use needles for every patient?",
                    "How many sessions do you suggest before we check whether it is working?",
                    "What will it cost, and can you bill my insurance or Medicare?",
                ],
            },
            {"type": "heading", "text": "Will Medicare pay?"},
            {
                "type": "paragraph",
                "text": "<p>Since January 2020, Medicare has covered acupuncture for chronic low back pain. To "
                "qualify, your back pain must have lasted 12 weeks or more. It must have no known whole-body cause, "
                "such as cancer, infection or an inflammatory disease. It also must not be linked to surgery or "
                "pregnancy. Medicare does not pay for acupuncture for any other condition. The practitioner also has "
                "to meet Medicare's rules: an acupuncturist needs a master's or doctoral degree from an accredited "
                "acupuncture school and a full, active state license.</p>",
                "cite": ["cms-ncd-30-3-3"],
            },
            {
                "type": "paragraph",
                "text": "<p>Medicare covers up to 12 visits in 90 days. If you are getting better, it covers up to 8 "
                "more, but never more than 20 visits in a year. Treatment must stop if you are not improving or "
                "are getting worse. Licensed acupuncturists cannot bill Medicare on their own. They must work under "
                "the supervision of a doctor or another qualified practitioner, who bills for the care. Before your "
                "first visit, ask the clinic whether it can bill Medicare for you.</p>",
                "cite": ["cms-ncd-30-3-3"],
            },
            {
                "type": "callout",
                "tone": "info",
                "title": "Other insurance",
                "text": "Private insurance and Medicare Advantage plans set their own rules. Some cover acupuncture "
                "for back pain and some do not, and many limit the number of visits. Call your plan before you "
                "start. Ask what is covered, whether you need a referral from your doctor, and what you will pay "
                "for each visit.",
            },
            {
                "type": "related",
                "slug": "first-acupuncture-visit",
                "text": "See what happens at your first acupuncture visit",
            },
        ],
        "takeaways": [
            "Look for L.Ac. (a state license) and, ideally, Dipl. Ac. (national board certification).",
            "Check the license on your state board's website before your first visit.",
            "Medicare covers acupuncture only for chronic low back pain: up to 12 visits in 90 days, and no more "
            "than 20 a year.",
        ],
        "faq": [
            {
                "question": "What is the difference between L.Ac. and Dipl. Ac.?",
                "answer": "<p>L.Ac. is a license from a state board: it lets someone practice in that state. Dipl. "
                "Ac. is national board certification from the NCCAOM. Many acupuncturists have both.</p>",
                "cite": ["nccaom-find"],
            },
            {
                "question": "Can a doctor give me acupuncture?",
                "answer": "<p>Yes, if state rules allow it. Medicare lets doctors, and some nurse practitioners and "
                "physician assistants with the right training and license, provide acupuncture for chronic low back "
                "pain.</p>",
                "cite": ["cms-ncd-30-3-3"],
            },
            {
                "question": "Does Medicare cover acupuncture for neck or knee pain?",
                "answer": "<p>No. Medicare covers acupuncture only for chronic low back pain that meets its rules. "
                "Other plans may be different, so ask yours.</p>",
                "cite": ["cms-ncd-30-3-3"],
            },
            {
                "question": "How many sessions will Medicare pay for?",
                "answer": "<p>Up to 12 visits in 90 days, and up to 8 more if you are improving. The limit is 20 "
                "visits a year.</p>",
                "cite": ["cms-ncd-30-3-3"],
            },
        ],
        "related": ["first-acupuncture-visit", "acupuncture-side-effects-safety"],
    },
    # 6 ------------------------------------------------------------------------------------------------------------
    {
        "slug": "acupuncture-or-massage-for-back-pain",
        "title": "Acupuncture or massage for back pain?",
        "standfirst": "Both are hands-on, low-risk treatments that help some people with back pain. Here is how the "
        "evidence compares, and how to choose.",
        "topics": ["back-pain"],
        "author": "author-2",
        "reviewer": "reviewer-2",
        "last_reviewed": "2026-11-02",
        "hero_alt": "Decorative abstract illustration in ocean blue and warm sand, made of soft rolling shapes.",
        "hero_credit": "Illustration: Acuclinic demo content",
        "hero_palette": ["#1f5f8b", "#f5ecd9"],
        "body": [
            {"type": "heading", "text": "Two options on the same list"},
            {
                "type": "paragraph",
                "text": "<p>The American College of Physicians lists both massage and acupuncture as non-drug options "
                "for back pain that started in the last 12 weeks, though the evidence for each is weak. For chronic "
                "back pain, its list of first choices includes acupuncture but not massage. The review behind that "
                "guideline still found that massage helped some people with chronic pain. So both are reasonable to "
                "try. The question is which one fits you.</p>",
                "cite": ["qaseem2017", "chou2017"],
            },
            {"type": "heading", "text": "What research says about massage"},
            {
                "type": "paragraph",
                "text": "<p>A Cochrane review combined 25 trials of massage for low back pain, with about 3,100 "
                "people. All but one of the trials were in people whose pain had lasted more than a few weeks. Compared "
                "with no treatment or a pretend treatment, massage eased pain for a short time. "
                "There was little sign that the benefit lasted. The authors had low confidence in the results, "
                "because many trials were small or hard to blind. Side effects were minor, such as brief "
                "soreness.</p>",
                "cite": ["furlan2015"],
            },
            {
                "type": "paragraph",
                "text": "<p>One well-run US trial gave 401 adults, aged 20 to 65, either 10 weekly massages or their usual "
                "care. All had chronic low back pain with no clear cause. It tested two kinds of massage: a relaxing, whole-body style and a more focused "
                "style. After 10 weeks, both helped people with daily tasks by a similar amount, and both eased how "
                "much the pain bothered them. Some benefit was "
                "still there at 6 months. By 1 year, only a small benefit remained.</p>",
                "cite": ["cherkin2011"],
            },
            {"type": "heading", "text": "How they compare"},
            {
                "type": "paragraph",
                "text": "<p>Few trials have tested acupuncture and massage against each other. Reviews that look at "
                "each one on its own find small to moderate pain relief from both, mostly in the weeks after "
                "treatment. For acupuncture, pooled data suggest the benefit may last longer, with much of it still "
                "there after a year. Neither is a cure. Both work best as part of a plan that keeps you moving. The "
                "sessions also feel different. In massage, a therapist works on the muscles of your back and hips "
                "with their hands. In acupuncture, you rest quietly with fine needles in place for part of a session "
                "of about 30 minutes.</p>",
                "cite": ["chou2017", "vickers2018"],
            },
            {
                "type": "list",
                "style": "bulleted",
                "items": [
                    "Needles or none: if you dislike needles, massage may suit you better.",
                    "Safety: both are low-risk. Massage can leave you sore for a day. Acupuncture can leave small "
                    "bruises.",
                    "Cost and cover: Medicare covers acupuncture for chronic low back pain under set rules. Cover "
                    "for massage is less common, so check your plan.",
                    "Your preference: the treatment you enjoy and can keep up is often the better choice.",
                ],
            },
            {
                "type": "paragraph",
                "text": "<p>UK guidance takes a different line. It suggests massage and other hands-on therapy only "
                "as part of a package that includes exercise, and it advises against acupuncture for low back "
                "pain. US and UK experts do agree on one thing: staying active is at the heart of getting "
                "better.</p>",
                "cite": ["nice-ng59", "qaseem2017"],
            },
            {
                "type": "callout",
                "tone": "tip",
                "title": "You can use both",
                "text": "Some people have acupuncture and massage in the same weeks. That is usually fine. Tell each "
                "practitioner about the other treatment, and add gentle daily movement, such as walking.",
            },
            {
                "type": "related",
                "slug": "acupuncture-for-back-pain-research",
                "text": "Read what the research says about acupuncture for back pain",
            },
        ],
        "takeaways": [
            "Massage and acupuncture both give modest relief, mostly in the short term.",
            "US guidelines list acupuncture as a first option for chronic low back pain, and massage for recent "
            "back pain.",
            "Choose the one you prefer and can keep up, and stay active.",
        ],
        "faq": [
            {
                "question": "Which works better for chronic back pain?",
                "answer": "<p>No one knows for sure, because few studies compare them directly. Both give small to "
                "moderate relief. US guidelines include acupuncture, but not massage, among first choices for "
                "chronic low back pain.</p>",
                "cite": ["chou2017", "qaseem2017"],
            },
            {
                "question": "Is massage safer than acupuncture?",
                "answer": "<p>Both are low-risk. Massage side effects are usually brief soreness. With acupuncture, "
                "small bruises are the most common side effect, and serious problems are rare.</p>",
                "cite": ["furlan2015", "witt2009"],
            },
            {
                "question": "How many massage sessions did the studies use?",
                "answer": "<p>In one large US trial, people had one massage a week for 10 weeks. Benefits were "
                "clearest at the end of that course.</p>",
                "cite": ["cherkin2011"],
            },
            {
                "question": "Do I need a referral for either treatment?",
                "answer": "<p>Usually not, but some insurance plans ask for one, so check first. For Medicare to pay "
                "for acupuncture, your low back pain must meet its rules for chronic pain: 12 weeks or more, with no "
                "known cause such as cancer or infection.</p>",
                "cite": ["cms-ncd-30-3-3"],
            },
        ],
        "related": ["acupuncture-for-back-pain-research", "chronic-vs-acute-back-pain"],
    },
]
