using BananaLab.Web.Api.Docs;
using Microsoft.AspNetCore.Routing;

namespace BananaLab.Web.Pages.Developers;

/// <summary>One API dialect this server speaks, with the calls that make a complete round trip.</summary>
public sealed record ApiDialectExample(string Id, string Name, string Summary, IReadOnlyList<ApiExampleStep> Steps);

/// <summary>
/// Ready-to-paste curl examples for every API dialect the app maps, in the order it maps them, filled with this server's
/// address, a model and the caller's key (or its prefix, which they replace with the full key). Each dialect provides
/// its own (<see cref="ApiDialectExamples"/> on its routes); a test checks every example's route against the app's endpoints.
/// </summary>
public sealed class ApiExamples(EndpointDataSource endpoints)
{
    /// <summary>Shown where the key goes when the caller has no active key.</summary>
    public const string KeyPlaceholder = "bl_...";

    /// <summary>Every dialect's examples, filled in for this server, key and model.</summary>
    /// <param name="baseUri">The server's address, e.g. NavigationManager.BaseUri.</param>
    /// <param name="key">What to put where the API key goes (a prefix with "…", or <see cref="KeyPlaceholder"/>).</param>
    /// <param name="model">A model id of this server's catalog.</param>
    public IReadOnlyList<ApiDialectExample> For(string baseUri, string key, string model)
    {
        var builder = new ApiExampleBuilder(baseUri, key, model);
        return endpoints.Endpoints.Select(e => e.Metadata.GetMetadata<ApiDialectExamples>()).OfType<ApiDialectExamples>().Distinct()
            .Select(dialect => new ApiDialectExample(dialect.Id, dialect.Name, dialect.Summary, dialect.Steps(builder)))
            .ToList();
    }

    /// <summary>Quotes a value for a POSIX shell: single quotes, with embedded ones closed and escaped.</summary>
    public static string ShellQuote(string value) => ApiExampleBuilder.ShellQuote(value);
}
