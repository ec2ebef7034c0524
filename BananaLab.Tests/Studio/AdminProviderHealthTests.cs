using BananaLab.Core.Tasks;
using BananaLab.Core.Workers;
using BananaLab.Tests.Workers;
using BananaLab.Web.Pages.Admin;
using BananaLab.Worker.Queue;
using Bunit;

namespace BananaLab.Tests.Studio;

/// <summary>The admin models page shows each model's provider health and switches a model its provider refused back on.</summary>
public sealed class AdminProviderHealthTests(ProviderCircuitTests.Factory app) : AdminTestContext(app), IClassFixture<ProviderCircuitTests.Factory>
{
    private const string Locked = ProviderCircuitTests.Factory.Locked;

    [Fact]
    public async Task A_model_whose_provider_refused_our_key_shows_why_and_Retry_switches_it_back_on()
    {
        await SignInAdminAsync();
        var user = await CreateUserAsync();
        var refused = await SubmitAndFinishAsync(user.Id, "[auth] seen by an admin", Locked);
        Assert.Equal("provider_auth_failed", refused.ErrorCode);
        RenderHosts();

        var page = Render<Models>();

        page.WaitForAssertion(() => Assert.Contains("switched off", page.Find($"[data-health='{Locked}']").TextContent));
        var health = page.Find($"[data-health='{Locked}']").TextContent;
        Assert.Contains("provider_auth_failed", health);
        Assert.Contains("refused the model's API key", health);
        Assert.Equal("false", page.Find($"[data-serving='{Locked}']").GetAttribute("data-available"));

        page.Find($"[data-retry='{Locked}']").Click();

        page.WaitForAssertion(() => Assert.Contains("sending tasks", page.Find($"[data-health='{Locked}']").TextContent));
        Assert.Equal(CircuitState.Closed, Get<ModelCircuits>().Current().Single(h => h.ModelId == Locked).Circuit);
        Assert.Equal("true", page.Find($"[data-serving='{Locked}']").GetAttribute("data-available"));
        Assert.True((await Get<TaskService>().SubmitAsync(user.Id, new SubmitTaskRequest { ModelId = Locked, Prompt = "after the retry" }, default)).Succeeded);
    }
}
