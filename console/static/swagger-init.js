// Swagger UI for /docs from the vendored bundle. validatorUrl is off: the default would send the
// specification to validator.swagger.io, which an isolated network cannot reach.
(function () {
  var script = document.getElementById("swagger-init");
  window.onload = function () {
    window.ui = SwaggerUIBundle({
      url: script.getAttribute("data-spec"),
      configUrl: script.getAttribute("data-config"),
      dom_id: "#openapi",
      deepLinking: true,
      validatorUrl: null,
      presets: [SwaggerUIBundle.presets.apis],
      layout: "BaseLayout"
    });
  };
})();
