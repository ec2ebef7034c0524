using System.Net;
using BananaLab.Core.Credits;
using BananaLab.Tests.Infrastructure;

namespace BananaLab.Tests.Api;

/// <summary><c>DELETE /api/v1/tasks/{id}</c>: the owner's files go, the ledger's record of money stays, admins still see the task.</summary>
public sealed class TaskDeletionTests(BananaLabFactory factory) : IClassFixture<BananaLabFactory>
{
    [Fact]
    public async Task Deleting_a_finished_task_removes_its_files_and_hides_it_from_the_owner_but_keeps_the_ledger()
    {
        var (user, key) = await factory.CreateUserAsync();
        using var client = factory.CreateClient(key);
        var done = await client.WaitForTerminalAsync((await client.SubmitAsync(new { model = BananaLabFactory.TestModel, prompt = "to delete", count = 2 })).Id);
        Assert.Equal("succeeded", done.Status);
        var ledger = factory.Services.GetRequiredService<CreditLedger>();
        var entriesBefore = await ledger.GetEntriesAsync(user.Id, 0, 100);
        var balanceBefore = await ledger.GetBalanceAsync(user.Id);
        var files = Directory.EnumerateFiles(Path.Combine(factory.DataDirectory, "images"), "*", SearchOption.AllDirectories)
            .Where(f => f.Contains(done.Id.ToString("N"))).ToList();
        Assert.Equal(2, files.Count);

        var deleted = await client.DeleteAsync($"/api/v1/tasks/{done.Id}");

        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        Assert.All(files, file => Assert.False(File.Exists(file), $"{file} should be gone"));
        var read = await client.GetAsync($"/api/v1/tasks/{done.Id}");
        Assert.Equal(HttpStatusCode.NotFound, read.StatusCode);
        Assert.Equal("task_not_found", (await read.ReadJsonAsync()).GetProperty("code").GetString());
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync(done.Images[0].Url)).StatusCode);
        var list = await (await client.GetAsync("/api/v1/tasks")).ReadJsonAsync();
        Assert.DoesNotContain(list.GetProperty("items").EnumerateArray(), t => t.GetProperty("id").GetGuid() == done.Id);
        Assert.Equal(entriesBefore.Count, (await ledger.GetEntriesAsync(user.Id, 0, 100)).Count);
        Assert.Equal(balanceBefore, await ledger.GetBalanceAsync(user.Id));

        using var admin = factory.CreateClient(BananaLabFactory.AdminApiKey);
        var seenByAdmin = await admin.GetTaskAsync(done.Id);
        Assert.NotNull(seenByAdmin.DeletedAt);
        Assert.Empty(seenByAdmin.Images);
        Assert.Equal(done.CreditsCharged, seenByAdmin.CreditsCharged);

        var again = await client.DeleteAsync($"/api/v1/tasks/{done.Id}");
        Assert.Equal(HttpStatusCode.NotFound, again.StatusCode);
    }

    [Fact]
    public async Task Nobody_deletes_another_users_task()
    {
        var (_, ownerKey) = await factory.CreateUserAsync();
        var (_, otherKey) = await factory.CreateUserAsync();
        using var owner = factory.CreateClient(ownerKey);
        using var other = factory.CreateClient(otherKey);
        using var admin = factory.CreateClient(BananaLabFactory.AdminApiKey);
        var done = await owner.WaitForTerminalAsync((await owner.SubmitAsync(new { model = BananaLabFactory.TestModel, prompt = "mine" })).Id);

        Assert.Equal(HttpStatusCode.NotFound, (await other.DeleteAsync($"/api/v1/tasks/{done.Id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await admin.DeleteAsync($"/api/v1/tasks/{done.Id}")).StatusCode);

        Assert.Null((await owner.GetTaskAsync(done.Id)).DeletedAt);
        Assert.Equal(HttpStatusCode.OK, (await owner.GetAsync(done.Images[0].Url)).StatusCode);
    }
}

/// <summary>A task that has not finished cannot be deleted: cancel it first.</summary>
public sealed class UnfinishedTaskDeletionTests(NoWorkerFactory factory) : IClassFixture<NoWorkerFactory>
{
    [Fact]
    public async Task A_queued_task_is_not_deleted_and_says_to_cancel_first()
    {
        var (_, key) = await factory.CreateUserAsync();
        using var client = factory.CreateClient(key);
        var queued = await client.SubmitAsync(new { model = BananaLabFactory.TestModel, prompt = "still waiting" });

        var response = await client.DeleteAsync($"/api/v1/tasks/{queued.Id}");

        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.ReadJsonAsync();
        Assert.Equal("not_deletable", problem.GetProperty("code").GetString());
        Assert.Contains("cancel it first", problem.GetProperty("detail").GetString());
        var after = await client.GetTaskAsync(queued.Id);
        Assert.Equal("queued", after.Status);
        Assert.Null(after.DeletedAt);
    }
}
