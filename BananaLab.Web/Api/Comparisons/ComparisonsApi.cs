using System.Security.Claims;
using System.Text.Json;
using BananaLab.Core.Comparisons;
using BananaLab.Core.Errors;
using BananaLab.Core.Idempotency;
using BananaLab.Core.Tasks;
using BananaLab.Web.Api.Errors;
using BananaLab.Web.Api.Moderation;
using BananaLab.Web.Api.Tasks;
using BananaLab.Web.Auth;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Options;

namespace BananaLab.Web.Api.Comparisons;

/// <summary>
/// The native API's compare mode: one prompt and settings for 2–4 models (<see cref="ComparisonService"/>). Creating one
/// is all or nothing; after that each task is priced, charged and settled on its own, and reads as any task does at
/// <c>/api/v1/tasks/{id}</c> too.
/// </summary>
public static class ComparisonsApi
{
    public static IEndpointRouteBuilder MapComparisonsApi(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api/v1/comparisons").RequireAuthorization().WithTags("Comparisons");
        group.MapPost("/", CreateComparison)
            .Accepts<CreateComparisonBody>("application/json")
            .ProducesErrors(ErrorKind.InvalidRequest, ErrorKind.InvalidField, ErrorKind.TooLarge, ErrorKind.UnsupportedMediaType, ErrorKind.PaymentRequired,
                ErrorKind.Forbidden, ErrorKind.Conflict, ErrorKind.RefusedByPolicy, ErrorKind.Unavailable);
        group.MapGet("/{id:guid}", GetComparison).ProducesErrors(ErrorKind.NotFound);
        return routes;
    }

    /// <summary>
    /// Creates a comparison from JSON: 201 with it, its tasks and its summed price. A setting one of the models does not take
    /// refuses the whole comparison (400 naming the setting and the model); so does a model list of other than 2 to 4
    /// distinct models. With an <c>Idempotency-Key</c>, a retry replays the first answer as it was stored.
    /// </summary>
    public static async Task<Results<Created<ComparisonResponse>, ProblemHttpResult, ContentHttpResult>> CreateComparison(HttpRequest request,
        ClaimsPrincipal caller, ComparisonService comparisons, IdempotencyStore idempotency, CancellationToken cancellationToken)
    {
        var body = await RequestBodies.ReadAsync(request, cancellationToken);
        if (body is null) return ApiProblems.From(RequestBodies.TooLarge());

        return await Idempotent.RunAsync(request, caller.UserId(), "comparisons.create", body, idempotency,
            async Task<Results<Created<ComparisonResponse>, ProblemHttpResult>> (idempotencyRecordId) =>
            {
                var parsed = Parse(request, body);
                if (!parsed.Succeeded) return ApiProblems.From(parsed.Error!);
                var (settings, models) = parsed.Value;
                var outcome = await comparisons.CreateAsync(caller.UserId(), settings with { Source = "api" }, models, cancellationToken, idempotencyRecordId);
                if (!outcome.Succeeded) return ApiProblems.From(outcome.Error!, ModerationReviewsApi.ReviewMembers(outcome.Error!));
                return Created(ComparisonResponse.From(outcome.Value!));
            },
            async Task<Results<Created<ComparisonResponse>, ProblemHttpResult>> (comparisonId) =>
                await comparisons.GetAsync(comparisonId, caller.UserId(), CancellationToken.None) is { } comparison
                    ? Created(ComparisonResponse.From(comparison)) : NotFound(),
            cancellationToken);
    }

    /// <summary>One of the caller's comparisons: its tasks side by side, each with its state, progress, charge and images.</summary>
    public static async Task<Results<Ok<ComparisonResponse>, ProblemHttpResult>> GetComparison(Guid id, ClaimsPrincipal caller,
        ComparisonService comparisons, CancellationToken cancellationToken)
    {
        var comparison = await comparisons.GetAsync(id, caller.UserId(), cancellationToken);
        return comparison is null ? NotFound() : TypedResults.Ok(ComparisonResponse.From(comparison));
    }

    /// <summary>The body as the engine's settings and the model list; <c>model</c> (one model) is refused, not ignored.</summary>
    private static Outcome<(SubmitTaskRequest Settings, IReadOnlyList<string?>? Models)> Parse(HttpRequest request, byte[] body)
    {
        CreateComparisonBody? json;
        try
        {
            var options = request.HttpContext.RequestServices.GetRequiredService<IOptions<JsonOptions>>().Value.SerializerOptions;
            if (CreateTaskRequests.UnknownField<CreateComparisonBody>(body) is { } unknown) return unknown;
            json = JsonSerializer.Deserialize<CreateComparisonBody>(body, options);
        }
        catch (JsonException e)
        {
            return TaskErrors.InvalidRequest($"The request body is not valid JSON for this endpoint: {e.Message}");
        }
        if (json is null) return TaskErrors.InvalidRequest("The request body is empty; send a JSON object.");
        if (json.Model is not null)
            return TaskErrors.InvalidRequest("A comparison names its models in 'models' (2 to 4), not 'model'.", "model");
        var settings = CreateTaskRequests.FromJson(json);
        if (!settings.Succeeded) return settings.Error!;
        return (settings.Value!, json.Models);
    }

    private static Created<ComparisonResponse> Created(ComparisonResponse response) =>
        TypedResults.Created($"/api/v1/comparisons/{response.Id}", response);

    /// <summary>The generic <c>not_found</c>: someone else's comparison reads the same as one that does not exist.</summary>
    private static ProblemHttpResult NotFound() => ApiProblems.From(new TaskError(ErrorTypes.NotFound, "There is no such comparison."));
}
