using Scalar.AspNetCore;

namespace BananaLab.Web.Api.Docs;

/// <summary>The OpenAPI document at <c>/openapi/v1.json</c> and its interactive reference at <c>/scalar</c>.</summary>
public static class ApiDocs
{
    public static IHostApplicationBuilder AddBananaLabApiDocs(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOpenApi();
        return builder;
    }

    public static IEndpointRouteBuilder MapApiDocs(this IEndpointRouteBuilder routes)
    {
        routes.MapOpenApi();
        routes.MapScalarApiReference(options => options.WithTitle("BananaLab API"));
        return routes;
    }
}
