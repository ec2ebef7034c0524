using System.Security.Claims;
using BananaLab.Core.Errors;
using BananaLab.Core.Idempotency;
using BananaLab.Core.Tasks;
using BananaLab.Web.Api.Errors;
using BananaLab.Web.Api.Moderation;
using BananaLab.Web.Auth;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Net.Http.Headers;

namespace BananaLab.Web.Api.Tasks;

/// <summary>The native task API: create, read, cancel, download images.</summary>
public static class TasksApi
{
    public static IEndpointRouteBuilder MapTasksApi(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api/v1/tasks").RequireAuthorization().WithTags("Tasks").WithMetadata(TaskExamples.Dialect);
        group.MapPost("/", CreateTask)
            .Accepts<CreateTaskBody>("application/json", "multipart/form-data")
            .ProducesErrors(ErrorKind.InvalidRequest, ErrorKind.InvalidField, ErrorKind.TooLarge, ErrorKind.UnsupportedMediaType, ErrorKind.PaymentRequired,
                ErrorKind.Forbidden, ErrorKind.Conflict, ErrorKind.RefusedByPolicy);
        group.MapGet("/", ListTasks).ProducesErrors(ErrorKind.InvalidRequest);
        group.MapGet("/{id:guid}", GetTask).ProducesErrors(ErrorKind.NotFound);
        group.MapPost("/{id:guid}/cancel", CancelTask).ProducesErrors(ErrorKind.NotFound, ErrorKind.Conflict);
        group.MapDelete("/{id:guid}", DeleteTask).ProducesErrors(ErrorKind.NotFound, ErrorKind.Conflict);
        group.MapGet("/{id:guid}/images/{index:int}", GetImage)
            .Produces(StatusCodes.Status200OK, typeof(Stream), "image/png", "image/jpeg", "image/webp")
            .ProducesErrors(ErrorKind.NotFound);
        return routes;
    }

    /// <summary>
    /// Creates a task from JSON or multipart/form-data (with a <c>referenceImage</c> file part): 201 with the task. With an
    /// <c>Idempotency-Key</c>, a retry replays the first answer as it was stored.
    /// </summary>
    public static async Task<Results<Created<TaskResponse>, ProblemHttpResult, ContentHttpResult>> CreateTask(HttpRequest request,
        ClaimsPrincipal caller, TaskService tasks, IdempotencyStore idempotency, CancellationToken cancellationToken)
    {
        var body = await RequestBodies.ReadAsync(request, cancellationToken);
        if (body is null) return ApiProblems.From(RequestBodies.TooLarge());

        return await Idempotent.RunAsync(request, caller.UserId(), "tasks.create", body, idempotency,
            async Task<Results<Created<TaskResponse>, ProblemHttpResult>> (idempotencyRecordId) =>
            {
                var parsed = await CreateTaskRequests.ParseAsync(request, body, cancellationToken);
                if (!parsed.Succeeded) return ApiProblems.From(parsed.Error!);
                var outcome = await tasks.SubmitAsync(caller.UserId(), parsed.Value! with { Source = "api" }, cancellationToken, idempotencyRecordId);
                if (!outcome.Succeeded) return ApiProblems.From(outcome.Error!, ModerationReviewsApi.ReviewMembers(outcome.Error!));
                return Created(TaskResponse.From(outcome.Value!));
            },
            async Task<Results<Created<TaskResponse>, ProblemHttpResult>> (taskId) =>
                await tasks.GetAsync(taskId, caller.UserId(), CancellationToken.None) is { } view ? Created(TaskResponse.From(view)) : NotFound(),
            cancellationToken);
    }

    /// <summary>The caller's tasks (an admin's: everyone's, deleted ones included), newest first, a page at a time.</summary>
    public static async Task<Ok<TaskListResponse>> ListTasks([AsParameters] TaskListQuery query, ClaimsPrincipal caller,
        TaskService tasks, CancellationToken cancellationToken)
    {
        var page = await tasks.ListAsync(OwnerFilter(caller), query.ToTaskQuery(), cancellationToken);
        return TypedResults.Ok(new TaskListResponse(page.Items.Select(t => TaskResponse.From(new TaskView(t, 0))).ToList(),
            page.Total, page.Page, page.PageSize));
    }

    /// <summary>One task: its state, progress, timings, error and images.</summary>
    public static async Task<Results<Ok<TaskResponse>, ProblemHttpResult>> GetTask(Guid id, ClaimsPrincipal caller,
        TaskService tasks, CancellationToken cancellationToken)
    {
        var view = await tasks.GetAsync(id, OwnerFilter(caller), cancellationToken);
        return view is null ? NotFound() : TypedResults.Ok(TaskResponse.From(view));
    }

    /// <summary>Cancels a queued or running task (its credits are released); 409 <c>not_cancelable</c> once it finished.</summary>
    public static async Task<Results<Ok<TaskResponse>, ProblemHttpResult>> CancelTask(Guid id, ClaimsPrincipal caller, TaskService tasks,
        CancellationToken cancellationToken)
    {
        var outcome = await tasks.CancelAsync(id, OwnerFilter(caller), cancellationToken);
        return outcome.Succeeded ? TypedResults.Ok(TaskResponse.From(outcome.Value!)) : ApiProblems.From(outcome.Error!);
    }

    /// <summary>
    /// The caller deletes one of their own finished tasks: 204, and its files are gone (the ledger keeps its
    /// entries). Even an admin's key deletes only its own tasks here.
    /// </summary>
    public static async Task<Results<NoContent, ProblemHttpResult>> DeleteTask(Guid id, ClaimsPrincipal caller, TaskService tasks,
        CancellationToken cancellationToken)
    {
        var outcome = await tasks.DeleteAsync(id, caller.UserId(), cancellationToken);
        return outcome.Succeeded ? TypedResults.NoContent() : ApiProblems.From(outcome.Error!);
    }

    /// <summary>Image <paramref name="index"/> of a task: the file, with an ETag and range support, saved under its own name.</summary>
    public static async Task<Results<PhysicalFileHttpResult, ProblemHttpResult>> GetImage(Guid id, int index, ClaimsPrincipal caller,
        TaskService tasks, CancellationToken cancellationToken)
    {
        var found = await tasks.GetImageAsync(id, index, OwnerFilter(caller), cancellationToken);
        if (found is not { } image || !File.Exists(image.FullPath)) return ApiProblems.From(TaskErrors.ImageNotFound());
        return TypedResults.PhysicalFile(image.FullPath, image.Image.ContentType,
            fileDownloadName: $"{id:N}-{index}{Path.GetExtension(image.Image.FilePath)}",
            entityTag: new EntityTagHeaderValue($"\"{image.Image.Sha256}\""), enableRangeProcessing: true);
    }

    /// <summary>Admins see every task; everyone else only their own.</summary>
    internal static Guid? OwnerFilter(ClaimsPrincipal caller) => caller.IsAdmin() ? null : caller.UserId();

    private static Created<TaskResponse> Created(TaskResponse response) => TypedResults.Created($"/api/v1/tasks/{response.Id}", response);

    private static ProblemHttpResult NotFound() => ApiProblems.From(TaskErrors.TaskNotFound());
}
