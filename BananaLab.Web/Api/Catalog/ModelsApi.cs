using BananaLab.Core.Catalog;
using BananaLab.Core.Errors;
using BananaLab.Core.Tasks;
using BananaLab.Web.Api.Errors;
using Microsoft.AspNetCore.Http.HttpResults;

namespace BananaLab.Web.Api.Catalog;

public sealed record ModelResponse(
    string Id, string DisplayName, string Description, string Provider, string Kind, int NativeWidth, int NativeHeight,
    IReadOnlyDictionary<string, int> Prices, int MaxImages, bool AcceptsReferenceImage, int DefaultSteps, double DefaultGuidance)
{
    public static ModelResponse From(ModelDefinition m) => new(m.Id, m.DisplayName, m.Description, m.Provider, m.Kind,
        m.NativeWidth, m.NativeHeight, m.OfferedTiers.ToDictionary(t => t.Label(), m.PriceOf), m.MaxImages,
        m.AcceptsReferenceImage, m.DefaultSteps, m.DefaultGuidance);
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

    /// <summary>Every model of the catalog with its prices per size tier.</summary>
    public static Ok<ModelResponse[]> ListModels(ModelCatalog catalog) =>
        TypedResults.Ok(catalog.All.Select(ModelResponse.From).ToArray());

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
