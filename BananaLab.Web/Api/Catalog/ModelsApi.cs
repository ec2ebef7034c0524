using BananaLab.Core.Catalog;
using BananaLab.Core.Errors;
using BananaLab.Core.Generation;
using BananaLab.Core.Tasks;
using BananaLab.Core.Workers;
using BananaLab.Web.Api.Errors;
using Microsoft.AspNetCore.Http.HttpResults;

namespace BananaLab.Web.Api.Catalog;

/// <summary>
/// A catalog model as clients see it. What it takes comes from its provider's <see cref="Capabilities"/>: the defaults of
/// parameters it does not take are null, and <c>maxImages</c> is what one task may ask for. <see cref="Available"/> is
/// false while no worker can run it (a submission is then refused with <c>model_unavailable</c>); <see cref="Availability"/> says why.
/// </summary>
public sealed record ModelResponse(
    string Id, string DisplayName, string Description, string Provider, string Kind, int NativeWidth, int NativeHeight,
    IReadOnlyDictionary<string, int> Prices, int MaxImages, bool AcceptsReferenceImage, int? DefaultSteps, double? DefaultGuidance,
    CapabilitiesResponse? Capabilities, bool Available, string Availability)
{
    public static ModelResponse From(ModelDefinition m, GenerationOffers offers, ModelServing serving)
    {
        var capabilities = offers.CapabilitiesOf(m);
        return new(m.Id, m.DisplayName, m.Description, m.Provider, m.Kind, m.NativeWidth, m.NativeHeight,
            m.OfferedTiers.ToDictionary(t => t.Label(), m.PriceOf), offers.MaxImages(m), capabilities?.MaxReferenceImages > 0,
            capabilities?.Steps == true ? m.DefaultSteps : null, capabilities?.Guidance == true ? m.DefaultGuidance : null,
            capabilities is null ? null : CapabilitiesResponse.From(capabilities), serving.Available, serving.Reason);
    }
}

/// <summary>
/// What a model takes and gives (see <see cref="GenerationCapabilities"/>); null for a model whose provider this
/// installation does not have.
/// </summary>
public sealed record CapabilitiesResponse(
    IReadOnlyList<string> AspectRatios, bool ExactSizes, bool Seed, bool Steps, bool Guidance, bool NegativePrompt,
    int MaxReferenceImages, bool Masks, bool Progress, bool Previews, int MaxBatch)
{
    public static CapabilitiesResponse From(GenerationCapabilities c) => new(c.AspectRatios.Select(r => r.ToString()).ToList(),
        c.ExactSizes, c.Seed, c.Steps, c.Guidance, c.NegativePrompt, c.MaxReferenceImages, c.Masks, c.Progress, c.Previews, c.MaxBatch);
}

public sealed record PriceResponse(string Model, string Size, int Width, int Height, int Count, int PricePerImage, int Total);

/// <summary>The model catalog and prices, so clients can show the cost before submitting.</summary>
public static class ModelsApi
{
    public static IEndpointRouteBuilder MapModelsApi(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api/v1").RequireAuthorization().WithTags("Models");
        group.MapGet("/models", ListModels);
        group.MapGet("/pricing", GetPrice).ProducesErrors(ErrorKind.InvalidRequest, ErrorKind.InvalidField);
        return routes;
    }

    /// <summary>Every model of the catalog with its prices per size tier, its capabilities and whether a worker can run it now.</summary>
    public static async Task<Ok<ModelResponse[]>> ListModels(ModelCatalog catalog, GenerationOffers offers, ModelAvailability availability,
        CancellationToken cancellationToken)
    {
        var serving = await availability.OfAsync(catalog.All, cancellationToken);
        return TypedResults.Ok(catalog.All.Zip(serving, (m, s) => ModelResponse.From(m, offers, s)).ToArray());
    }

    /// <summary>The exact cost of a request, priced as a submission would be charged; the same errors as a submission.</summary>
    public static Results<Ok<PriceResponse>, ProblemHttpResult> GetPrice(string? model, string? size, int? count, string? aspectRatio,
        int? width, int? height, TaskService tasks)
    {
        var quote = tasks.Quote(model, size, count, aspectRatio, width, height);
        if (!quote.Succeeded) return ApiProblems.From(quote.Error!);
        var q = quote.Value!;
        return TypedResults.Ok(new PriceResponse(q.ModelId, q.Tier.Label(), q.Width, q.Height, q.ImageCount, q.PricePerImage, q.Total));
    }
}
