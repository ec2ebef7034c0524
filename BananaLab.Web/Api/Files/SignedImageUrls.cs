using BananaLab.Core.Errors;
using BananaLab.Core.Tasks;
using BananaLab.Web.Api.Errors;
using BananaLab.Web.Api.Dialects;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace BananaLab.Web.Api.Files;

/// <summary>
/// Time-limited, tamper-proof image URLs for clients that fetch results without an API key
/// (OpenAI's <c>url</c> response format, Banana's <c>image_url</c>): <c>/files/{token}</c>.
/// </summary>
public sealed class SignedImageUrls(IDataProtectionProvider protection, IOptions<ApiOptions> options)
{
    private readonly ITimeLimitedDataProtector _protector =
        protection.CreateProtector("BananaLab.SignedImageUrls").ToTimeLimitedDataProtector();

    public string For(HttpRequest request, Guid taskId, int index) =>
        For($"{request.Scheme}://{request.Host}{request.PathBase}", taskId, index);

    public string For(string baseUrl, Guid taskId, int index)
    {
        var token = _protector.Protect($"{taskId:N}.{index}", TimeSpan.FromMinutes(options.Value.ImageUrlLifetimeMinutes));
        return $"{baseUrl.TrimEnd('/')}/files/{token}";
    }

    public bool TryRead(string token, out Guid taskId, out int index)
    {
        taskId = Guid.Empty;
        index = -1;
        try
        {
            var parts = _protector.Unprotect(token).Split('.');
            return parts.Length == 2 && Guid.TryParseExact(parts[0], "N", out taskId) && int.TryParse(parts[1], out index);
        }
        catch (System.Security.Cryptography.CryptographicException)
        {
            return false;
        }
    }
}

public static class SignedFilesEndpoints
{
    public static IHostApplicationBuilder AddSignedImageUrls(this IHostApplicationBuilder builder)
    {
        // Signed with the cluster's shared key ring (KeyRing/), so a link made on one node opens on every node.
        builder.Services.AddSingleton<SignedImageUrls>();
        return builder;
    }

    public static IEndpointRouteBuilder MapSignedFiles(this IEndpointRouteBuilder routes)
    {
        routes.MapGet("/files/{token}", GetFile).WithTags("Files").AllowAnonymous()
            .Produces(StatusCodes.Status200OK, typeof(Stream), "image/png", "image/jpeg", "image/webp")
            .ProducesErrors(ErrorKind.NotFound, ErrorKind.RateLimited);
        return routes;
    }

    /// <summary>The image a signed link names, while the link is valid: no key needed, the signature authorizes.</summary>
    public static async Task<Results<PhysicalFileHttpResult, ProblemHttpResult>> GetFile(string token, SignedImageUrls urls, TaskService tasks,
        CancellationToken cancellationToken)
    {
        if (!urls.TryRead(token, out var taskId, out var index))
            return ApiProblems.From(new TaskError(ErrorTypes.LinkExpired, "This link is invalid or has expired."));
        var found = await tasks.GetImageAsync(taskId, index, ownerId: null, cancellationToken);
        if (found is not { } image || !File.Exists(image.FullPath)) return ApiProblems.From(TaskErrors.ImageNotFound());
        return TypedResults.PhysicalFile(image.FullPath, image.Image.ContentType, enableRangeProcessing: true,
            entityTag: new Microsoft.Net.Http.Headers.EntityTagHeaderValue($"\"{image.Image.Sha256}\""));
    }
}
