import secrets
from urllib.parse import urlsplit

from django.core.paginator import EmptyPage, PageNotAnInteger, Paginator
from django.http import HttpResponseForbidden, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from .forms import HelpfulVoteForm
from .models import ArticlePage
from .selectors import with_latest_review
from .services import record_helpful_vote

VOTER_COOKIE = "acu_voter"
VOTER_COOKIE_AGE = 60 * 60 * 24 * 365


def _same_origin(request) -> bool:
    """The vote form carries no CSRF token so that article pages stay cacheable; refuse cross-site posts instead."""
    if request.headers.get("Sec-Fetch-Site") in ("cross-site",):
        return False
    origin = request.headers.get("Origin") or request.headers.get("Referer")
    if not origin or origin == "null":
        return True
    return urlsplit(origin).netloc == request.get_host()


@csrf_exempt
@require_POST
def helpful_vote(request, article_id: int):
    article = get_object_or_404(ArticlePage.objects.live().public(), pk=article_id)
    if not _same_origin(request):
        return HttpResponseForbidden("Votes are accepted from this site only.")
    form = HelpfulVoteForm(request.POST)
    wants_json = request.headers.get("Accept", "").startswith("application/json")
    if not form.is_valid():
        if wants_json:
            return JsonResponse({"ok": False, "errors": form.errors.get_json_data()}, status=400)
        return render(request, "content/helpful_error.html", {"page": article, "form": form}, status=400)
    voter = request.COOKIES.get(VOTER_COOKIE) or secrets.token_urlsafe(24)
    vote = record_helpful_vote(
        article=article,
        voter_cookie=voter,
        helpful=form.cleaned_data["helpful"],
        missing=form.cleaned_data["missing"],
    )
    if wants_json:
        response = JsonResponse({"ok": True, "helpful": vote.helpful})
    else:
        response = redirect(f"{article.url}?feedback=thanks#helpful")
    response.set_cookie(
        VOTER_COOKIE,
        voter,
        max_age=VOTER_COOKIE_AGE,
        httponly=True,
        samesite="Lax",
        secure=request.is_secure(),
    )
    return response


@require_GET
def search(request):
    # NUL and other control characters are refused by PostgreSQL's text search; nobody types them on purpose.
    query = "".join(ch for ch in (request.GET.get("q") or "") if ch.isprintable()).strip()[:200]
    results = None
    if query:
        matches = ArticlePage.objects.live().public().search(query)
        paginator = Paginator(matches, 10)
        try:
            results = paginator.page(request.GET.get("page") or 1)
        except (PageNotAnInteger, EmptyPage):
            results = paginator.page(1)
        # Annotate the page of hits with reviewer and date for the result list (one more query, not one per hit).
        ids = [page.pk for page in results.object_list]
        annotated = with_latest_review(ArticlePage.objects.filter(pk__in=ids)).in_bulk(ids)
        results.object_list = [annotated[pk] for pk in ids if pk in annotated]
    return render(request, "content/search.html", {"query": query, "results": results})
