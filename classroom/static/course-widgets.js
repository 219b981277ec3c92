// Renders the ipywidgets stored in a page (metadata.widgets of the notebook) with the local Jupyter widgets
// HTML manager, and teaches its output area to draw plotly figures (the explorers' Output widgets store
// them as application/vnd.plotly.v1+json, which the manager alone cannot show). nbconvert adds this script
// after the page has loaded (widget_renderer_url).
(function () {
  "use strict";
  var PLOTLY_MIME = "application/vnd.plotly.v1+json";
  var here = document.currentScript.src.replace(/[^/]*$/, "");
  // Font Awesome's fonts (widget icons) are loaded relative to this path.
  window.__jupyter_widgets_assets_path__ = here + "html-manager/dist/";
  window.require.config({
    paths: {"@jupyter-widgets/html-manager/dist/libembed-amd": here + "html-manager/dist/libembed-amd"}
  });

  // A renderer for plotly outputs: the manager's own HTML renderer, drawing the figure instead of HTML.
  function addPlotlyRenderer(renderMime) {
    var htmlFactory = renderMime.getFactory("text/html");
    renderMime.addFactory({
      safe: true,
      mimeTypes: [PLOTLY_MIME],
      createRenderer: function (options) {
        var renderer = htmlFactory.createRenderer(options);
        renderer.renderModel = function (model) {
          return window.courseDrawPlotlyFigure(renderer.node, model.data[PLOTLY_MIME]);
        };
        return renderer;
      }
    }, 0);
  }

  // libembed-amd.js defines "@jupyter-widgets/html-manager" too: ask for it once the file has loaded.
  window.require(["@jupyter-widgets/html-manager/dist/libembed-amd"], function (embed) {
    window.require(["@jupyter-widgets/html-manager"], function (htmlManager) {
      var setState = htmlManager.HTMLManager.prototype.set_state;
      htmlManager.HTMLManager.prototype.set_state = function (state) {
        addPlotlyRenderer(this.renderMime);
        return setState.call(this, state);
      };
      embed.renderWidgets();
    });
  });
}());
