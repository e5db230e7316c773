using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Wavhaven.Payments.Testing.State;

namespace Wavhaven.Payments.Testing.Api;

/// <summary>Customers: create, read, update, list by email, search.</summary>
internal sealed partial class StripeApi
{
    private static readonly (string, ParamSpec)[] CustomerFields =
    [
        ("email", ParamSpec.Scalar),
        ("name", ParamSpec.Scalar),
        ("phone", ParamSpec.Scalar),
        ("description", ParamSpec.Scalar),
        ("metadata", ParamSpec.Map),
        ("address", ParamSpec.Object([.. Customer.AddressFields.Select(field => (field, ParamSpec.Scalar))])),
        ("payment_method", ParamSpec.Unsupported),
        ("invoice_settings", ParamSpec.Unsupported),
    ];

    private void MapCustomers()
    {
        Map("POST", "/v1/customers", Accepts(CustomerFields), CreateCustomer);
        Map("GET", "/v1/customers/search", Accepts(("query", ParamSpec.Scalar), ("limit", ParamSpec.Scalar), ("page", ParamSpec.Scalar)), SearchCustomers);
        Map("GET", "/v1/customers/{id}", Nothing, call => _store.Get<Customer>(call.Id, "customer", "id").ToJson(_store));
        Map("POST", "/v1/customers/{id}", Accepts(CustomerFields), UpdateCustomer);
        Map("GET", "/v1/customers", ListAccepts("email"), call =>
        {
            var email = call.Params.String("email");
            return EntityPage(call, _store.All<Customer>().Where(customer => email is null || string.Equals(customer.Email, email, StringComparison.Ordinal)), "/v1/customers", _store);
        });
    }

    private JsonObject CreateCustomer(ApiCall call)
    {
        var customer = new Customer(Ids.New("cus_"), _store.Now);
        ApplyCustomer(call.Params, customer);
        _store.Add(customer);
        _store.Emit("customer.created", customer, call.Request);
        return customer.ToJson(_store);
    }

    private JsonObject UpdateCustomer(ApiCall call)
    {
        var customer = _store.Get<Customer>(call.Id, "customer", "id");
        var before = customer.ToJson(_store);
        ApplyCustomer(call.Params, customer);
        var after = customer.ToJson(_store);
        if (Json.Diff(before, after) is { } previous)
        {
            _store.Emit("customer.updated", after, call.Request, previous);
        }

        return after;
    }

    private static void ApplyCustomer(Params parameters, Customer customer)
    {
        // First, as it is the only part that can be refused: a refused update changes nothing.
        parameters.ApplyMetadata("metadata", customer.Metadata);
        if (parameters.Has("email"))
        {
            customer.Email = parameters.String("email");
        }

        if (parameters.Has("name"))
        {
            customer.Name = parameters.String("name");
        }

        if (parameters.Has("phone"))
        {
            customer.Phone = parameters.String("phone");
        }

        if (parameters.Has("description"))
        {
            customer.Description = parameters.String("description");
        }

        if (parameters.Object("address") is { } address)
        {
            customer.Address = new Dictionary<string, string?>(StringComparer.Ordinal);
            foreach (var field in Customer.AddressFields)
            {
                customer.Address[field] = address.String(field);
            }
        }
        else if (parameters.Has("address"))
        {
            customer.Address = null; // address= unsets it
        }
    }

    private JsonObject SearchCustomers(ApiCall call)
    {
        var query = call.Params.RequiredString("query");
        var clauses = SearchQuery.Parse(query);
        var limit = Limit(call);
        var offset = 0;
        if (call.Params.String("page") is { } page)
        {
            try
            {
                offset = int.Parse(Encoding.UTF8.GetString(Convert.FromBase64String(page)), NumberStyles.None, CultureInfo.InvariantCulture);
            }
            catch (FormatException)
            {
                throw ApiException.InvalidRequest("Invalid page: use the next_page value of the previous search result.", "page");
            }
        }

        var matches = _store.All<Customer>().OrderByDescending(customer => customer.Sequence).Where(clauses.Matches).ToList();
        var pageItems = matches.Skip(offset).Take(limit).ToList();
        var hasMore = matches.Count > offset + limit;
        var data = new JsonArray();
        foreach (var customer in pageItems)
        {
            // As a JsonNode: the generic Add<T> would wrap a value of any type, through reflection.
            data.Add((JsonNode)customer.ToJson(_store));
        }

        return new JsonObject
        {
            ["object"] = "search_result",
            ["data"] = data,
            ["has_more"] = hasMore,
            ["next_page"] = hasMore ? Convert.ToBase64String(Encoding.UTF8.GetBytes((offset + limit).ToString(CultureInfo.InvariantCulture))) : null,
            ["url"] = "/v1/customers/search",
        };
    }
}

/// <summary>
/// Stripe's search query language, for customers: <c>field:'value'</c> clauses joined by <c>AND</c> or by
/// <c>OR</c> (not both), on <c>email</c>, <c>name</c>, <c>phone</c>, <c>description</c> and <c>metadata['key']</c>.
/// Values are single- or double-quoted with <c>\</c> escapes. <c>:</c> is an exact match, ignoring case.
/// </summary>
internal sealed class SearchQuery
{
    private readonly List<(string Field, string? MetadataKey, string Value)> _clauses = [];
    private bool _any;

    public static SearchQuery Parse(string query)
    {
        var result = new SearchQuery();
        var position = 0;
        string? joiner = null;
        while (true)
        {
            SkipSpaces(query, ref position);
            var field = ReadWord(query, ref position);
            string? metadataKey = null;
            if (field == "metadata")
            {
                Expect(query, ref position, '[');
                metadataKey = ReadQuoted(query, ref position);
                Expect(query, ref position, ']');
            }
            else if (field is not ("email" or "name" or "phone" or "description"))
            {
                throw Invalid($"Field '{field}' is not searchable here. Customers can be searched by email, name, phone, description and metadata['key'].");
            }

            Expect(query, ref position, ':');
            var value = ReadQuoted(query, ref position);
            result._clauses.Add((field, metadataKey, value));
            SkipSpaces(query, ref position);
            if (position >= query.Length)
            {
                return result;
            }

            var word = ReadWord(query, ref position);
            if (word is not ("AND" or "OR"))
            {
                throw Invalid($"Expected AND or OR at position {position}, found '{word}'.");
            }

            if (joiner is not null && joiner != word)
            {
                throw Invalid("A query cannot combine AND and OR.");
            }

            joiner = word;
            result._any = word == "OR";
        }
    }

    public bool Matches(Customer customer)
    {
        bool Match((string Field, string? MetadataKey, string Value) clause)
        {
            var actual = clause.Field switch
            {
                "email" => customer.Email,
                "name" => customer.Name,
                "phone" => customer.Phone,
                "description" => customer.Description,
                _ => customer.Metadata.GetValueOrDefault(clause.MetadataKey!),
            };
            return actual is not null && string.Equals(actual, clause.Value, StringComparison.OrdinalIgnoreCase);
        }

        return _any ? _clauses.Any(Match) : _clauses.All(Match);
    }

    private static void SkipSpaces(string query, ref int position)
    {
        while (position < query.Length && char.IsWhiteSpace(query[position]))
        {
            position++;
        }
    }

    private static string ReadWord(string query, ref int position)
    {
        var start = position;
        while (position < query.Length && (char.IsAsciiLetterOrDigit(query[position]) || query[position] == '_'))
        {
            position++;
        }

        return position > start ? query[start..position] : throw Invalid($"Expected a field name at position {start}.");
    }

    private static void Expect(string query, ref int position, char expected)
    {
        if (position >= query.Length || query[position] != expected)
        {
            throw Invalid($"Expected '{expected}' at position {position}.");
        }

        position++;
    }

    private static string ReadQuoted(string query, ref int position)
    {
        if (position >= query.Length || (query[position] != '\'' && query[position] != '"'))
        {
            throw Invalid($"Expected a quoted value at position {position}, e.g. email:'jane@example.com'.");
        }

        var quote = query[position++];
        var value = new StringBuilder();
        while (position < query.Length && query[position] != quote)
        {
            if (query[position] == '\\' && position + 1 < query.Length)
            {
                position++;
            }

            value.Append(query[position++]);
        }

        Expect(query, ref position, quote);
        return value.ToString();
    }

    private static ApiException Invalid(string message) => ApiException.InvalidRequest("Invalid search query: " + message, "query");
}
