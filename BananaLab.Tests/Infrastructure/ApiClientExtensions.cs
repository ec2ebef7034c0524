using System.Net.Http.Json;
using System.Text.Json;
using BananaLab.Web.Api.Tasks;

namespace BananaLab.Tests.Infrastructure;

public static class ApiClientExtensions
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static async Task<TaskResponse> SubmitAsync(this HttpClient client, object body)
    {
        var response = await client.PostAsJsonAsync("/api/v1/tasks", body);
        if (!response.IsSuccessStatusCode)
            throw new HttpRequestException($"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        return (await response.Content.ReadFromJsonAsync<TaskResponse>(Json))!;
    }

    public static async Task<TaskResponse> GetTaskAsync(this HttpClient client, Guid id) =>
        (await client.GetFromJsonAsync<TaskResponse>($"/api/v1/tasks/{id}", Json))!;

    /// <summary>Polls until the task is terminal (succeeded, failed, canceled, blocked).</summary>
    public static async Task<TaskResponse> WaitForTerminalAsync(this HttpClient client, Guid id, int timeoutSeconds = 30)
    {
        var deadline = DateTime.UtcNow.AddSeconds(timeoutSeconds);
        while (true)
        {
            var task = await client.GetTaskAsync(id);
            if (task.Status is "succeeded" or "failed" or "canceled" or "blocked") return task;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"Task {id} still {task.Status} after {timeoutSeconds}s.");
            await Task.Delay(50);
        }
    }

    public static async Task<JsonElement> ReadJsonAsync(this HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;

    /// <summary>The caller's credit balance, as <c>/api/v1/credits</c> reports it.</summary>
    public static async Task<int> BalanceAsync(this HttpClient client) =>
        (await (await client.GetAsync("/api/v1/credits")).ReadJsonAsync()).GetProperty("balance").GetInt32();

    /// <summary>The caller's newest task, as the native API lists it.</summary>
    public static async Task<JsonElement> LastTaskAsync(this HttpClient client) =>
        (await (await client.GetAsync("/api/v1/tasks?pageSize=1")).ReadJsonAsync()).GetProperty("items")[0];
}
