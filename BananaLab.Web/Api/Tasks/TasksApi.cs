using System.Security.Claims;
using BananaLab.Core.Tasks;
using BananaLab.Web.Auth;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Net.Http.Headers;

namespace BananaLab.Web.Api.Tasks;

/// <summary>The native task API: create, read, cancel, download images.</summary>
public static class TasksApi
{
    public static IEndpointRouteBuilder MapTasksApi(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api/v1/tasks").RequireAuthorization().WithTags("Tasks");
        group.MapPost("/", CreateTask);
        group.MapGet("/{id:guid}", GetTask);
        group.MapPost("/{id:guid}/cancel", CancelTask);
        group.MapGet("/{id:guid}/images/{index:int}", GetImage);
        return routes;
    }

    public static async Task<IResult> CreateTask(CreateTaskBody body, ClaimsPrincipal caller, TaskService tasks,
        CancellationToken cancellationToken)
    {
        ReferenceImageUpload? reference = null;
        if (body.ReferenceImage is not null)
        {
            if (!TryDecodeBase64(body.ReferenceImage, out var bytes))
                return ApiProblems.From(TaskErrors.ReferenceImageUnreadable("the referenceImage field is not valid base64."));
            reference = new ReferenceImageUpload(bytes);
        }
        var outcome = await tasks.SubmitAsync(caller.UserId(), new SubmitTaskRequest
        {
            ModelId = body.Model, Prompt = body.Prompt, NegativePrompt = body.NegativePrompt, Size = body.Size,
            AspectRatio = body.AspectRatio, Width = body.Width, Height = body.Height, ImageCount = body.Count,
            Seed = body.Seed, Steps = body.Steps, Guidance = body.Guidance, OutputFormat = body.OutputFormat,
            ReferenceImage = reference, ReferenceStrength = body.ReferenceStrength, Source = "api",
        }, cancellationToken);
        if (!outcome.Succeeded) return ApiProblems.From(outcome.Error!);
        var response = TaskResponse.From(outcome.Value!);
        return TypedResults.Created($"/api/v1/tasks/{response.Id}", response);
    }

    public static async Task<Results<Ok<TaskResponse>, ProblemHttpResult>> GetTask(Guid id, ClaimsPrincipal caller,
        TaskService tasks, CancellationToken cancellationToken)
    {
        var view = await tasks.GetAsync(id, OwnerFilter(caller), cancellationToken);
        return view is null ? NotFound() : TypedResults.Ok(TaskResponse.From(view));
    }

    public static async Task<IResult> CancelTask(Guid id, ClaimsPrincipal caller, TaskService tasks,
        CancellationToken cancellationToken)
    {
        var outcome = await tasks.CancelAsync(id, OwnerFilter(caller), cancellationToken);
        return outcome.Succeeded ? TypedResults.Ok(TaskResponse.From(outcome.Value!)) : ApiProblems.From(outcome.Error!);
    }

    public static async Task<IResult> GetImage(Guid id, int index, ClaimsPrincipal caller, TaskService tasks,
        CancellationToken cancellationToken)
    {
        var found = await tasks.GetImageAsync(id, index, OwnerFilter(caller), cancellationToken);
        if (found is not { } image || !File.Exists(image.FullPath)) return ApiProblems.From(TaskErrors.ImageNotFound());
        return TypedResults.PhysicalFile(image.FullPath, image.Image.ContentType,
            fileDownloadName: $"{id:N}-{index}{Path.GetExtension(image.Image.FilePath)}",
            entityTag: new EntityTagHeaderValue($"\"{image.Image.Sha256}\""), enableRangeProcessing: true);
    }

    /// <summary>Admins see every task; everyone else only their own.</summary>
    internal static Guid? OwnerFilter(ClaimsPrincipal caller) => caller.IsAdmin() ? null : caller.UserId();

    private static ProblemHttpResult NotFound() =>
        TypedResults.Problem(statusCode: 404, title: "Not found", detail: TaskErrors.TaskNotFound().Message,
            extensions: new Dictionary<string, object?> { ["code"] = TaskErrors.TaskNotFound().Code });

    internal static bool TryDecodeBase64(string value, out byte[] bytes)
    {
        // Accept data URLs as browsers produce them.
        var comma = value.StartsWith("data:", StringComparison.OrdinalIgnoreCase) ? value.IndexOf(',') : -1;
        var payload = comma >= 0 ? value[(comma + 1)..] : value;
        bytes = new byte[payload.Length * 3 / 4 + 3];
        if (Convert.TryFromBase64String(payload.Trim(), bytes, out var written))
        {
            bytes = bytes[..written];
            return true;
        }
        bytes = [];
        return false;
    }
}
