using BananaLab.Core.Errors;
using BananaLab.Core.Tasks;
using Microsoft.AspNetCore.Http.HttpResults;

namespace BananaLab.Web.Api.Errors;

/// <summary>
/// The web layer's one mapping from an error's kind to its HTTP status, and the native API's envelope: an RFC 7807
/// problem with the error's stable <c>code</c>.
/// </summary>
public static class ApiProblems
{
    /// <summary>The HTTP status of an error of this kind, for every dialect that answers errors with a status.</summary>
    public static int StatusFor(ErrorKind kind) => kind switch
    {
        ErrorKind.InvalidRequest or ErrorKind.InvalidField => StatusCodes.Status400BadRequest,
        ErrorKind.Unauthorized => StatusCodes.Status401Unauthorized,
        ErrorKind.PaymentRequired => StatusCodes.Status402PaymentRequired,
        ErrorKind.Forbidden => StatusCodes.Status403Forbidden,
        ErrorKind.NotFound => StatusCodes.Status404NotFound,
        ErrorKind.MethodNotAllowed => StatusCodes.Status405MethodNotAllowed,
        ErrorKind.Conflict or ErrorKind.Canceled => StatusCodes.Status409Conflict,
        ErrorKind.TooLarge => StatusCodes.Status413PayloadTooLarge,
        ErrorKind.UnsupportedMediaType => StatusCodes.Status415UnsupportedMediaType,
        ErrorKind.NotAcceptable => StatusCodes.Status406NotAcceptable,
        ErrorKind.RefusedByPolicy => StatusCodes.Status422UnprocessableEntity,
        ErrorKind.RateLimited => StatusCodes.Status429TooManyRequests,
        ErrorKind.Failed => StatusCodes.Status502BadGateway,
        ErrorKind.Unavailable => StatusCodes.Status503ServiceUnavailable,
        ErrorKind.Timeout => StatusCodes.Status504GatewayTimeout,
        ErrorKind.Unexpected => StatusCodes.Status500InternalServerError,
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Every error kind needs an HTTP status."),
    };

    /// <summary>The error as a problem: its kind's status, its type's title, its message as the detail, its code.</summary>
    /// <param name="extensions">More members beside <c>code</c> (e.g. <c>taskId</c>).</param>
    public static ProblemHttpResult From(TaskError error, IReadOnlyDictionary<string, object?>? extensions = null)
    {
        var members = new Dictionary<string, object?> { ["code"] = error.Code };
        foreach (var (name, value) in extensions ?? new Dictionary<string, object?>()) members[name] = value;
        return TypedResults.Problem(statusCode: StatusFor(error.Kind), title: error.Type.Title, detail: error.Message, extensions: members);
    }

    /// <summary>Problems the framework writes itself (404 for an unknown route, 415, 405) get a sentence and a code too.</summary>
    public static void DescribeStatusOnlyProblems(ProblemDetailsOptions options) => options.CustomizeProblemDetails = context =>
    {
        var problem = context.ProblemDetails;
        if (problem.Extensions.ContainsKey("code")) return;
        (problem.Detail, var type) = problem.Status switch
        {
            404 => (problem.Detail ?? "There is nothing at this address.", ErrorTypes.NotFound),
            405 => (problem.Detail ?? "This address does not accept that HTTP method.", ErrorTypes.MethodNotAllowed),
            413 => (problem.Detail ?? "The request body is too large.", ErrorTypes.BodyTooLarge),
            415 => (problem.Detail ?? "Send the body as application/json (or multipart/form-data where a file is uploaded).", ErrorTypes.UnsupportedMediaType),
            _ => (problem.Detail, ErrorTypes.Unexpected),
        };
        problem.Extensions["code"] = type.Code;
    };
}
