from django.contrib.syndication.views import Feed
from django.utils.feedgenerator import Atom1Feed

from .selectors import articles_for_topic


class TopicAtomFeed(Feed):
    feed_type = Atom1Feed

    def __init__(self, *, topic):
        super().__init__()
        self.topic = topic

    def __call__(self, request, *args, **kwargs):
        self.request = request
        return super().__call__(request, *args, **kwargs)

    def title(self):
        return f"{self.topic.title} articles"

    def link(self):
        return self.topic.url

    def subtitle(self):
        return f"Medically reviewed articles about {self.topic.title.lower()}."

    def items(self):
        return articles_for_topic(topic=self.topic)[:30]

    def item_title(self, item):
        return item.title

    def item_description(self, item):
        return item.standfirst

    def item_link(self, item):
        return item.url

    def item_updateddate(self, item):
        return item.last_published_at

    def item_pubdate(self, item):
        return item.first_published_at

    def item_author_name(self, item):
        return item.reviewer_name and f"Reviewed by {item.reviewer_name}"
