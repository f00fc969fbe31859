"""The public pages the accessibility and HTML checks cover (paths in the demo content)."""

ARTICLE_PATH = "/articles/acupuncture-for-back-pain-research/"

# The pages every check must cover.
PAGES = {
    "home": "/",
    "topic": "/topics/back-pain/",
    "article": ARTICLE_PATH,
    "search": "/search/?q=back+pain+acupuncture",
    "person": "/experts/reviewer-1/",
}

# The listing pages a patient reaches from the main navigation and breadcrumbs; checked as well.
INDEX_PAGES = {
    "articles-index": "/articles/",
    "topics-index": "/topics/",
    "people-index": "/experts/",
}
