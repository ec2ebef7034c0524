using Microsoft.AspNetCore.Hosting.StaticWebAssets;
using Microsoft.Extensions.FileProviders;

namespace BananaLab.Web.Components;

/// <summary>
/// Where the studio's stylesheets and scripts come from, the same in every environment. ASP.NET Core only
/// reads the build's static web assets manifest in Development and otherwise looks for <c>wwwroot</c> under
/// the content root; the README's <c>dotnet run</c> starts in Production with the repository root as its
/// content root, so every asset answered 200 with an empty body. Here:
/// <list type="bullet">
/// <item>a build output (<c>dotnet run</c>) serves the manifest's files (our <c>wwwroot</c>, the scoped CSS,
/// <c>_framework</c> and MudBlazor's package assets) whatever the environment;</item>
/// <item>a publish output (<c>dotnet BananaLab.Web.dll</c>) serves the <c>wwwroot</c> beside the assembly, even
/// when it is started from another working directory.</item>
/// </list>
/// </summary>
public static class StaticAssetsSetup
{
    public static WebApplicationBuilder AddBananaLabStaticAssets(this WebApplicationBuilder builder)
    {
        var environment = builder.Environment;
        var publishedWebRoot = Path.Combine(AppContext.BaseDirectory, "wwwroot");
        if (!Directory.Exists(environment.WebRootPath) && Directory.Exists(publishedWebRoot))
        {
            environment.WebRootPath = publishedWebRoot;
            environment.WebRootFileProvider = new PhysicalFileProvider(publishedWebRoot);
        }
        // A no-op without the build's manifest (a publish output has none), and what Development already does.
        if (!environment.IsDevelopment())
            StaticWebAssetsLoader.UseStaticWebAssets(environment, builder.Configuration);
        return builder;
    }
}
