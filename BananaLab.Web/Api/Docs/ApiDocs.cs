using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;
using Scalar.AspNetCore;

namespace BananaLab.Web.Api.Docs;

/// <summary>
/// The OpenAPI document at <c>/openapi/v1.json</c> and its interactive reference at <c>/scalar</c>. Every operation declares
/// its success response (from its typed result) and its error responses, each in its dialect's envelope
/// (<see cref="Errors.ApiErrorResponses.ProducesErrors"/>).
/// </summary>
public static class ApiDocs
{
    public static IHostApplicationBuilder AddBananaLabApiDocs(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOpenApi(options =>
        {
            options.AddOperationTransformer(DescribeEveryResponseContent);
            options.AddSchemaTransformer(DropUnsentDiscriminator);
        });
        return builder;
    }

    public static IEndpointRouteBuilder MapApiDocs(this IEndpointRouteBuilder routes)
    {
        routes.MapOpenApi();
        routes.MapScalarApiReference(options => options.WithTitle("BananaLab API"));
        return routes;
    }

    /// <summary>
    /// One status can come in several media types, each with its own body (BentoML's <c>/generate</c>: JSON, or the image
    /// itself); the API explorer keeps one type per status, so the others are added here from the endpoint's metadata.
    /// </summary>
    private static async Task DescribeEveryResponseContent(OpenApiOperation operation, OpenApiOperationTransformerContext context,
        CancellationToken cancellationToken)
    {
        foreach (var produces in context.Description.ActionDescriptor.EndpointMetadata.OfType<IProducesResponseTypeMetadata>())
        {
            if (produces.Type is null || operation.Responses?.GetValueOrDefault(produces.StatusCode.ToString()) is not OpenApiResponse response) continue;
            response.Content ??= new Dictionary<string, OpenApiMediaType>();
            foreach (var contentType in produces.ContentTypes.Where(c => !response.Content.ContainsKey(c)))
                response.Content[contentType] = new OpenApiMediaType { Schema = await SchemaAsync(produces.Type, context, cancellationToken) };
        }
    }

    /// <summary>The type's schema as a shared component (as the document describes its other bodies), by the type's name.</summary>
    private static async Task<IOpenApiSchema> SchemaAsync(Type type, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        var schema = await context.GetOrCreateSchemaAsync(type, null, cancellationToken);
        if (context.Document is not { } document) return schema;
        document.AddComponent(type.Name, schema);
        return new OpenApiSchemaReference(type.Name, document);
    }

    /// <summary>
    /// A reply with several shapes (<c>[JsonDerivedType]</c> without a discriminator) is written as the shape itself, with no
    /// <c>$type</c> member; the schema says so, listing the shapes without claiming a discriminator.
    /// </summary>
    private static Task DropUnsentDiscriminator(OpenApiSchema schema, OpenApiSchemaTransformerContext context, CancellationToken cancellationToken)
    {
        if (schema.Discriminator is not null && context.JsonTypeInfo.PolymorphismOptions is { } polymorphism
            && polymorphism.DerivedTypes.All(derived => derived.TypeDiscriminator is null))
            schema.Discriminator = null;
        return Task.CompletedTask;
    }
}
