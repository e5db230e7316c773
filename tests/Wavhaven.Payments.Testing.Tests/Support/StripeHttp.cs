using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;

namespace Wavhaven.Payments.Testing.Tests.Support;

/// <summary>A Stripe answer: status, headers and JSON body.</summary>
public sealed record StripeAnswer(HttpStatusCode Status, HttpResponseHeaders Headers, JsonObject Body)
{
    public string? Header(string name) => Headers.TryGetValues(name, out var values) ? values.FirstOrDefault() : null;

    public JsonObject Error => Body["error"]!.AsObject();

    public string Id => (string)Body["id"]!;
}

/// <summary>Talks to the emulator the way Stripe's clients do: bearer key, pinned version, form bodies.</summary>
public sealed class StripeHttp : IDisposable
{
    private readonly HttpClient _client;

    public StripeHttp(StripeEmulator emulator, string? secretKey = null)
    {
        _client = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, UseProxy = false }) { BaseAddress = emulator.BaseUrl };
        if (secretKey != "")
        {
            _client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", secretKey ?? emulator.SecretKey);
        }

        _client.DefaultRequestHeaders.TryAddWithoutValidation("Stripe-Version", Wavhaven.Payments.Stripe.StripeApiVersion.Current);
    }

    public HttpClient Client => _client;

    public Task<StripeAnswer> GetAsync(string pathAndQuery) => SendAsync(HttpMethod.Get, pathAndQuery, null, null);

    public Task<StripeAnswer> DeleteAsync(string pathAndQuery) => SendAsync(HttpMethod.Delete, pathAndQuery, null, null);

    public Task<StripeAnswer> PostAsync(string path, string body, string? idempotencyKey = null) => SendAsync(HttpMethod.Post, path, body, idempotencyKey);

    /// <summary>Posts and insists on 200, returning the body.</summary>
    public async Task<JsonObject> PostOkAsync(string path, string body)
    {
        var answer = await PostAsync(path, body);
        answer.Status.Should().Be(HttpStatusCode.OK, answer.Body.ToJsonString());
        return answer.Body;
    }

    public async Task<JsonObject> GetOkAsync(string pathAndQuery)
    {
        var answer = await GetAsync(pathAndQuery);
        answer.Status.Should().Be(HttpStatusCode.OK, answer.Body.ToJsonString());
        return answer.Body;
    }

    public async Task<StripeAnswer> SendAsync(HttpMethod method, string path, string? body, string? idempotencyKey)
    {
        using var request = new HttpRequestMessage(method, path.TrimStart('/'));
        if (body is not null)
        {
            request.Content = new StringContent(body, Encoding.UTF8, "application/x-www-form-urlencoded");
        }

        if (idempotencyKey is not null)
        {
            request.Headers.TryAddWithoutValidation("Idempotency-Key", idempotencyKey);
        }

        using var response = await _client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return new StripeAnswer(response.StatusCode, response.Headers, JsonNode.Parse(text)!.AsObject());
    }

    public void Dispose() => _client.Dispose();
}
