using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace BananaLab.Core.Credits;

public static class CreditsSetup
{
    /// <summary>The credit ledger and what a new account is given (<see cref="CreditsOptions"/>).</summary>
    public static IHostApplicationBuilder AddBananaLabCredits(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<CreditsOptions>().Bind(builder.Configuration.GetSection(CreditsOptions.Section))
            .ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<CreditLedger>();
        return builder;
    }
}
