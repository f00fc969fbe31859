"""Only with BENCHMARK_MINIMAL_VIEW (bench/, never a public site): the SQL queries of a request, on request.

A request sent with the header ``X-Bench-Queries: 1`` gets its number of SQL queries back in the response header
``X-Bench-Queries``, counted on the server itself (bench/pages.py prints them beside the CPU time). Requests
without the header are passed through untouched, so the load itself is measured without counting.
"""

from django.db import connections


class QueryCountMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if "HTTP_X_BENCH_QUERIES" not in request.META:
            return self.get_response(request)
        count = 0

        def counter(execute, sql, params, many, context):
            nonlocal count
            count += 1
            return execute(sql, params, many, context)

        wrappers = [connections[alias].execute_wrapper(counter) for alias in connections]
        for wrapper in wrappers:
            wrapper.__enter__()
        try:
            response = self.get_response(request)
        finally:
            for wrapper in reversed(wrappers):
                wrapper.__exit__(None, None, None)
        response["X-Bench-Queries"] = str(count)
        return response
