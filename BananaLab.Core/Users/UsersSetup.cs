using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace BananaLab.Core.Users;

public static class UsersSetup
{
    /// <summary>Accounts, API keys, their revocation, and the bootstrap admin (<see cref="BootstrapOptions"/>).</summary>
    public static IHostApplicationBuilder AddBananaLabUsers(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<BootstrapOptions>().Bind(builder.Configuration.GetSection(BootstrapOptions.Section)).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<BootstrapOptions>, BootstrapOptionsValidator>();
        builder.Services.AddSingleton<UserService>();
        builder.Services.AddSingleton<ApiKeyService>();
        builder.Services.AddSingleton<AccountRevocations>();
        return builder;
    }
}
