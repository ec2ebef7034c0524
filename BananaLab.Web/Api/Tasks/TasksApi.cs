using System.Security.Claims;
using BananaLab.Core.Errors;
using BananaLab.Core.Idempotency;
using BananaLab.Core.Tasks;
using BananaLab.Web.Api.Errors;
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
        group.MapPost("/", CreateTask)
            .Accepts<CreateTaskBody>("application/json", "multipart/form-data")
            .Produces<TaskResponse>(StatusCodes.Status201Created)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status402PaymentRequired)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity);
        group.MapGet("/", ListTasks);
        group.MapGet("/{id:guid}", GetTask);
        group.MapPost("/{id:guid}/cancel", CancelTask);
        group.MapDelete("/{id:guid}", DeleteTask)
            .Produces(StatusCodes.Status204NoContent)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);
        group.MapGet("/{id:guid}/images/{index:int}", GetImage);
        return routes;
    }

    /// <summary>Creates a task from JSON or multipart/form-data (with a <c>referenceImage</c> file part).</summary>
    public static async Task<IResult> CreateTask(HttpRequest request, ClaimsPrincipal caller, TaskService tasks,
        IdempotencyStore idempotency, CancellationToken cancellationToken)
    {
        var body = await RequestBodies.ReadAsync(request, cancellationToken);
        if (body is null) return ApiProblems.From(new TaskError(ErrorTypes.BodyTooLarge, "The request body is too large."));

        return await Idempotent.RunAsync(request, caller.UserId(), "tasks.create", body, idempotency, async idempotencyRecordId =>
        {
            var parsed = await CreateTaskRequests.ParseAsync(request, body, cancellationToken);
            if (!parsed.Succeeded) return ApiProblems.From(parsed.Error!);
            var outcome = await tasks.SubmitAsync(caller.UserId(), parsed.Value! with { Source = "api" }, cancellationToken, idempotencyRecordId);
            if (!outcome.Succeeded) return ApiProblems.From(outcome.Error!);
            var response = TaskResponse.From(outcome.Value!);
            return TypedResults.Created($"/api/v1/tasks/{response.Id}", response);
        }, async taskId =>
        {
            var view = await tasks.GetAsync(taskId, caller.UserId(), CancellationToken.None);
            if (view is null) return NotFound();
            var response = TaskResponse.From(view);
            return TypedResults.Created($"/api/v1/tasks/{response.Id}", response);
        }, cancellationToken);
    }

    public static async Task<Ok<TaskListResponse>> ListTasks([AsParameters] TaskListQuery query, ClaimsPrincipal caller,
        TaskService tasks, CancellationToken cancellationToken)
    {
        var page = await tasks.ListAsync(OwnerFilter(caller), query.ToTaskQuery(), cancellationToken);
        return TypedResults.Ok(new TaskListResponse(page.Items.Select(t => TaskResponse.From(new TaskView(t, 0))).ToList(),
            page.Total, page.Page, page.PageSize));
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

    /// <summary>
    /// The caller deletes one of their own finished tasks: 204, and its files are gone (the ledger keeps its
    /// entries). Even an admin's key deletes only its own tasks here.
    /// </summary>
    public static async Task<IResult> DeleteTask(Guid id, ClaimsPrincipal caller, TaskService tasks,
        CancellationToken cancellationToken)
    {
        var outcome = await tasks.DeleteAsync(id, caller.UserId(), cancellationToken);
        return outcome.Succeeded ? TypedResults.NoContent() : ApiProblems.From(outcome.Error!);
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
}
