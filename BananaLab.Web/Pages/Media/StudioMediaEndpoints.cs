using BananaLab.Core.Tasks;
using BananaLab.Web.Auth;
using Microsoft.Net.Http.Headers;

namespace BananaLab.Web.Pages.Media;

/// <summary>
/// Images for the signed-in studio: <c>/media/tasks/{id}/{index}</c> serves the original (with
/// <c>?download=true</c> as an attachment), <c>/media/tasks/{id}/{index}/thumb</c> a small WebP for lists.
/// Owners see their own images, admins everyone's.
/// </summary>
public static class StudioMediaEndpoints
{
    public static string Original(Guid taskId, int index) => $"/media/tasks/{taskId}/{index}";

    public static string Download(Guid taskId, int index) => $"/media/tasks/{taskId}/{index}?download=true";

    public static string Thumbnail(Guid taskId, int index) => $"/media/tasks/{taskId}/{index}/thumb";

    public static IEndpointRouteBuilder MapStudioMedia(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/media/tasks").RequireAuthorization(StudioPolicies.Member).ExcludeFromDescription();
        group.MapGet("/{taskId:guid}/{index:int}", GetOriginal);
        group.MapGet("/{taskId:guid}/{index:int}/thumb", GetThumbnail);
        return routes;
    }

    private static async Task<IResult> GetOriginal(Guid taskId, int index, bool? download, HttpContext context, TaskService tasks,
        CancellationToken cancellationToken)
    {
        var found = await tasks.GetImageAsync(taskId, index, OwnerFilter(context), cancellationToken);
        if (found is not { } image || !File.Exists(image.FullPath)) return TypedResults.NotFound();
        var fileName = download == true ? $"bananalab-{taskId:N}-{index}{Path.GetExtension(image.FullPath)}" : null;
        return TypedResults.PhysicalFile(image.FullPath, image.Image.ContentType, fileName, enableRangeProcessing: true,
            entityTag: new EntityTagHeaderValue($"\"{image.Image.Sha256}\""));
    }

    private static async Task<IResult> GetThumbnail(Guid taskId, int index, HttpContext context, TaskService tasks, Thumbnails thumbnails,
        CancellationToken cancellationToken)
    {
        var found = await tasks.GetImageAsync(taskId, index, OwnerFilter(context), cancellationToken);
        if (found is not { } image || !File.Exists(image.FullPath)) return TypedResults.NotFound();
        var path = await thumbnails.GetAsync(image.FullPath, image.Image.Sha256, cancellationToken);
        context.Response.Headers.CacheControl = "private, max-age=86400";
        return TypedResults.PhysicalFile(path, "image/webp", entityTag: new EntityTagHeaderValue($"\"t{image.Image.Sha256}\""));
    }

    private static Guid? OwnerFilter(HttpContext context) => context.User.IsAdmin() ? null : context.User.UserId();
}
