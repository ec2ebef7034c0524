using BananaLab.Core.Errors;
using BananaLab.Core.Tasks;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Mvc;

namespace BananaLab.Web.Api.Errors;

/// <summary>
/// How one API dialect answers an error: its envelope, and the status each kind gets there (the web layer's
/// <see cref="ApiProblems.StatusFor"/> unless the dialect's contract says otherwise). A dialect attaches its writer to its
/// route group as endpoint metadata (<c>WithMetadata</c>); whatever answers for an endpoint without being its handler reads
/// it there: <see cref="ApiExceptionHandler"/>, the rate limiter, and the endpoint's documented error responses
/// (<see cref="ApiErrorResponses.ProducesErrors"/>). An endpoint without one answers as the native API, with problems.
/// </summary>
public abstract class ApiErrorWriter
{
    /// <summary>The native API's writer: RFC 7807 problems (<see cref="ApiProblems.From"/>).</summary>
    public static ApiErrorWriter Problems { get; } = new ProblemErrorWriter();

    /// <summary>The writer of the endpoint that answers this request; the native API's when it has none (or no endpoint matched).</summary>
    public static ApiErrorWriter For(HttpContext context) => Of(context.GetEndpoint()?.Metadata) ?? Problems;

    /// <summary>The writer a dialect attached to an endpoint, or null for the native API.</summary>
    public static ApiErrorWriter? Of(IEnumerable<object>? metadata) => metadata?.OfType<ApiErrorWriter>().LastOrDefault();

    /// <summary>The type of the error body, for the OpenAPI document.</summary>
    public abstract Type EnvelopeType { get; }

    /// <summary>The error body's media type.</summary>
    public virtual string ContentType => "application/json";

    /// <summary>The HTTP status an error of this kind is answered with.</summary>
    public virtual int StatusFor(ErrorKind kind) => ApiProblems.StatusFor(kind);

    /// <summary>The error as this dialect's response.</summary>
    public abstract IResult Write(TaskError error, HttpContext context);

    private sealed class ProblemErrorWriter : ApiErrorWriter
    {
        public override Type EnvelopeType => typeof(ProblemDetails);
        public override string ContentType => "application/problem+json";
        public override IResult Write(TaskError error, HttpContext context) => ApiProblems.From(error);
    }
}

/// <summary>The error kinds an endpoint can answer, as endpoint metadata (added by <see cref="ApiErrorResponses.ProducesErrors"/>).</summary>
public sealed record ApiErrorKinds(IReadOnlyList<ErrorKind> Kinds);

/// <summary>How endpoints declare the errors they can answer, for the OpenAPI document and its test.</summary>
public static class ApiErrorResponses
{
    /// <summary>
    /// Declares that these endpoints can answer errors of these kinds. Each becomes a documented response: the status and
    /// the envelope of the endpoint's <see cref="ApiErrorWriter"/>, worked out once every convention has run (so a group can
    /// declare kinds for endpoints whose dialect attaches its writer later).
    /// </summary>
    public static TBuilder ProducesErrors<TBuilder>(this TBuilder builder, params ErrorKind[] kinds) where TBuilder : IEndpointConventionBuilder
    {
        builder.WithMetadata(new ApiErrorKinds(kinds));
        builder.Finally(endpoint =>
        {
            var writer = ApiErrorWriter.Of(endpoint.Metadata) ?? ApiErrorWriter.Problems;
            var documented = endpoint.Metadata.OfType<IProducesResponseTypeMetadata>().Select(m => m.StatusCode).ToHashSet();
            foreach (var status in kinds.Select(writer.StatusFor).Where(documented.Add))
                endpoint.Metadata.Add(new ProducesResponseTypeMetadata(status, writer.EnvelopeType, [writer.ContentType]));
        });
        return builder;
    }
}
