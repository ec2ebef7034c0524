namespace BananaLab.Web.Pages;

/// <summary>
/// Bodyless error responses: a browser asking for a page gets the studio's not-found page (status kept), while
/// API and dialect callers keep getting problem+json from <see cref="StatusCodePagesExtensions.UseStatusCodePages(IApplicationBuilder)"/>.
/// </summary>
public static class StatusCodePages
{
    public const string NotFoundPath = "/not-found";

    // Dialect endpoints (Banana, fastDeploy, sessions, BentoML) sit at the root but only take POST, which never gets a page.
    private static readonly string[] ApiPrefixes = ["/api", "/v1", "/files", "/hubs", "/metrics", "/openapi"];

    public static WebApplication UseBananaLabStatusCodePages(this WebApplication app)
    {
        app.UseWhen(IsPageRequest, page => page.UseStatusCodePagesWithReExecute(NotFoundPath, createScopeForStatusCodePages: true));
        app.UseWhen(context => !IsPageRequest(context), api => api.UseStatusCodePages());
        return app;
    }

    /// <summary>A browser navigating: GET or HEAD, asking for HTML, outside the API's paths.</summary>
    public static bool IsPageRequest(HttpContext context)
    {
        var request = context.Request;
        if (!HttpMethods.IsGet(request.Method) && !HttpMethods.IsHead(request.Method)) return false;
        if (ApiPrefixes.Any(prefix => request.Path.StartsWithSegments(prefix, StringComparison.OrdinalIgnoreCase))) return false;
        return request.GetTypedHeaders().Accept.Any(accept => accept.MediaType.Equals("text/html", StringComparison.OrdinalIgnoreCase));
    }
}
