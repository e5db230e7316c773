using Wavhaven.Payments.Testing.State;

namespace Wavhaven.Payments.Testing.Api;

/// <summary>Prices and products, seeded from the plan catalog.</summary>
internal sealed partial class StripeApi
{
    private void MapCatalog()
    {
        Map("GET", "/v1/prices/{id}", Nothing, call => _store.Get<Price>(call.Id, "price", "id").ToJson(_store));
        Map("GET", "/v1/prices", ListAccepts("active", "product", "type", "currency"), call =>
        {
            var active = call.Params.Bool("active");
            var product = call.Params.String("product");
            var type = call.Params.OneOf("type", "one_time", "recurring");
            var currency = call.Params.String("currency");
            var prices = _store.All<Price>().Where(price =>
                (active is null || price.Active == active)
                && (product is null || price.ProductId == product)
                && (type is null || (type == "recurring") == price.IsRecurring)
                && (currency is null || price.Currency == currency));
            return EntityPage(call, prices, "/v1/prices", _store);
        });
        Map("GET", "/v1/products/{id}", Nothing, call => _store.Get<Product>(call.Id, "product", "id").ToJson(_store));
        Map("GET", "/v1/products", ListAccepts("active"), call =>
        {
            var active = call.Params.Bool("active");
            return EntityPage(call, _store.All<Product>().Where(product => active is null || product.Active == active), "/v1/products", _store);
        });
    }
}
