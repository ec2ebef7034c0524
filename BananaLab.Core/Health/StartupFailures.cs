using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace BananaLab.Core.Health;

/// <summary>
/// Runs a host until it stops. A setting that stops start-up (an <see cref="OptionsValidationException"/>) is also said in
/// one plain line on standard error, "BananaLab did not start: …", between the host's log of it and the runtime's report of
/// the exception, which then goes on: the process exits non-zero, and a test host (WebApplicationFactory) sees it as before.
/// </summary>
public static class StartupFailures
{
    /// <returns>0 after a normal stop.</returns>
    public static async Task<int> RunUntilStoppedAsync(this IHost host)
    {
        try
        {
            await host.RunAsync();
            return 0;
        }
        catch (OptionsValidationException e)
        {
            await Console.Error.WriteLineAsync($"BananaLab did not start: {string.Join(" ", e.Failures)}");
            throw;
        }
    }
}
