"""The public pages the accessibility and HTML checks cover (paths in the demo content)."""

ARTICLE_PATH = "/articles/acupuncture-for-back-pain-research/"

# The pages every check must cover.
PAGES = {
    "home": "/",
    "topic": "/topics/back-pain/",
    "article": ARTICLE_PATH,
    "search": "/search/?q=back+pain+acupuncture",
    "person": "/experts/reviewer-1/",
    # A practitioner's profile; the slug comes from the name in load_initial_data's DEMO_PRACTITIONERS.
    "practitioner": "/practitioners/casey-example/",
}

# The listing pages a patient reaches from the main navigation and breadcrumbs; checked as well.
INDEX_PAGES = {
    "articles-index": "/articles/",
    "topics-index": "/topics/",
    "people-index": "/experts/",
    "practitioners-index": "/practitioners/",
}
