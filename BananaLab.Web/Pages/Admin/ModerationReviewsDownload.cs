using BananaLab.Core.Moderation;
using BananaLab.Web.Api.Admin;
using BananaLab.Web.Auth;

namespace BananaLab.Web.Pages.Admin;

/// <summary>
/// The moderation page's download of the labelled export, for a signed-in admin's browser (the cookie policy; the
/// API's twin, <c>GET /api/v1/admin/moderation/reviews.tsv</c>, takes an admin key).
/// </summary>
public static class ModerationReviewsDownload
{
    public const string Path = "/media/admin/moderation/reviews.tsv";

    public static IEndpointRouteBuilder MapModerationReviewsDownload(this IEndpointRouteBuilder routes)
    {
        routes.MapGet(Path, ModerationAdminApi.ExportReviews).RequireAuthorization(StudioPolicies.Admin).ExcludeFromDescription();
        return routes;
    }
}
