using BananaLab.Core.Tasks;

namespace BananaLab.Web.Api;

/// <summary>Turns a <see cref="TaskError"/> into an RFC 7807 problem with a stable <c>code</c>.</summary>
public static class ApiProblems
{
    public static IResult From(TaskError error) =>
        TypedResults.Problem(statusCode: StatusFor(error.Code), title: TitleFor(error.Code), detail: error.Message,
            extensions: new Dictionary<string, object?> { ["code"] = error.Code });

    /// <summary>A request-level problem that is not a task error (headers, body size, paging).</summary>
    public static IResult Invalid(string detail, string code, int status = StatusCodes.Status400BadRequest) =>
        TypedResults.Problem(statusCode: status, title: status == 409 ? "Conflict" : "Invalid request", detail: detail,
            extensions: new Dictionary<string, object?> { ["code"] = code });

    /// <summary>Problems the framework writes itself (404 for an unknown route, 415, 405) get a sentence and a code too.</summary>
    public static void DescribeStatusOnlyProblems(ProblemDetailsOptions options) => options.CustomizeProblemDetails = context =>
    {
        var problem = context.ProblemDetails;
        if (problem.Extensions.ContainsKey("code")) return;
        (problem.Detail, var code) = problem.Status switch
        {
            404 => (problem.Detail ?? "There is nothing at this address.", "not_found"),
            405 => (problem.Detail ?? "This address does not accept that HTTP method.", "method_not_allowed"),
            413 => (problem.Detail ?? "The request body is too large.", "body_too_large"),
            415 => (problem.Detail ?? "Send the body as application/json (or multipart/form-data where a file is uploaded).", "unsupported_media_type"),
            _ => (problem.Detail, "error"),
        };
        problem.Extensions["code"] = code;
    };

    public static int StatusFor(string code) => code switch
    {
        "insufficient_credits" => StatusCodes.Status402PaymentRequired,
        "moderation_blocked" => StatusCodes.Status422UnprocessableEntity,
        "task_not_found" or "image_not_found" => StatusCodes.Status404NotFound,
        "not_cancelable" => StatusCodes.Status409Conflict,
        "not_deletable" => StatusCodes.Status409Conflict,
        "user_disabled" => StatusCodes.Status403Forbidden,
        _ => StatusCodes.Status400BadRequest,
    };

    private static string TitleFor(string code) => code switch
    {
        "insufficient_credits" => "Not enough credits",
        "moderation_blocked" => "Prompt refused",
        "task_not_found" or "image_not_found" => "Not found",
        "not_cancelable" => "Cannot cancel",
        "not_deletable" => "Cannot delete yet",
        _ => "Invalid request",
    };
}
