"use strict";(self.rspackChunkagent_workbench=self.rspackChunkagent_workbench||[]).push([[700],{646(r,o,e){var t=e(601),n=e.n(t),a=e(314),i=(e.n(a))()(n());i.push([r.id,`/* agent-workbench's runs browser and run view: JupyterLab's own variables, so light and dark themes fit. */
.wb-runs {
  display: flex;
  flex-direction: column;
  background: var(--jp-layout-color1);
  color: var(--jp-ui-font-color1);
  font-size: var(--jp-ui-font-size1);
  min-width: 300px;
}
.wb-runs-search {
  margin: 8px;
  padding: 4px 6px;
  border: var(--jp-border-width) solid var(--jp-border-color1);
  background: var(--jp-layout-color0);
  color: var(--jp-ui-font-color0);
}
.wb-runs-info {
  padding: 0 8px 6px;
  color: var(--jp-ui-font-color2);
  font-size: var(--jp-ui-font-size0);
  white-space: nowrap;
  overflow: hidden;
  text-overflow: ellipsis;
}
.wb-runs-scroll {
  flex: 1;
  overflow: auto;
}
.wb-runs-table {
  border-collapse: collapse;
  width: 100%;
}
.wb-runs-table th {
  position: sticky;
  top: 0;
  background: var(--jp-layout-color2);
  text-align: left;
  font-weight: 600;
  padding: 3px 6px;
}
.wb-runs-table td {
  padding: 3px 6px;
  border-bottom: var(--jp-border-width) solid var(--jp-border-color2);
  max-width: 14em;
  white-space: nowrap;
  overflow: hidden;
  text-overflow: ellipsis;
}
.wb-runs-row {
  cursor: pointer;
}
.wb-runs-row:hover {
  background: var(--jp-layout-color2);
}
.wb-status-running {
  color: var(--jp-brand-color1);
}
.wb-status-done {
  color: var(--jp-success-color1);
}
.wb-status-error {
  color: var(--jp-error-color1);
}
.wb-status-paused {
  color: var(--jp-warn-color1);
}
.wb-run-view {
  overflow: auto;
  padding: 12px 16px;
  background: var(--jp-layout-color1);
  color: var(--jp-ui-font-color1);
  font-size: var(--jp-ui-font-size1);
}
.wb-run-header {
  border-bottom: var(--jp-border-width) solid var(--jp-border-color2);
  padding-bottom: 8px;
  margin-bottom: 8px;
}
.wb-run-header > div {
  margin: 2px 0;
}
.wb-run-open-notebook {
  margin: 6px 0;
}
.wb-run-cards {
  list-style: none;
  margin: 0;
  padding: 0;
}
.wb-run-card {
  border-left: 3px solid var(--jp-border-color1);
  border-bottom: var(--jp-border-width) solid var(--jp-border-color2);
  padding: 4px 8px;
  margin: 4px 0;
}
.wb-run-card.wb-run-error {
  border-left-color: var(--jp-error-color1);
}
.wb-run-card-head {
  font-weight: 600;
}
.wb-run-field {
  display: flex;
  gap: 8px;
}
.wb-run-label {
  flex: 0 0 4.5em;
  color: var(--jp-ui-font-color2);
}
.wb-run-text {
  flex: 1;
  min-width: 0;
}
pre.wb-run-text {
  margin: 0;
  font-family: var(--jp-code-font-family);
  font-size: var(--jp-code-font-size);
  white-space: pre-wrap;
}
.wb-run-plan .wb-done {
  text-decoration: line-through;
  opacity: 0.7;
}
`,""]),e.d(o,{},{A:i})},314(r){r.exports=function(r){var o=[];return o.toString=function(){return this.map(function(o){var e="",t=void 0!==o[5];return o[4]&&(e+="@supports (".concat(o[4],") {")),o[2]&&(e+="@media ".concat(o[2]," {")),t&&(e+="@layer".concat(o[5].length>0?" ".concat(o[5]):""," {")),e+=r(o),t&&(e+="}"),o[2]&&(e+="}"),o[4]&&(e+="}"),e}).join("")},o.i=function(r,e,t,n,a){"string"==typeof r&&(r=[[null,r,void 0]]);var i={};if(t)for(var c=0;c<this.length;c++){var s=this[c][0];null!=s&&(i[s]=!0)}for(var l=0;l<r.length;l++){var p=[].concat(r[l]);t&&i[p[0]]||(void 0!==a&&(void 0===p[5]||(p[1]="@layer".concat(p[5].length>0?" ".concat(p[5]):""," {").concat(p[1],"}")),p[5]=a),e&&(p[2]&&(p[1]="@media ".concat(p[2]," {").concat(p[1],"}")),p[2]=e),n&&(p[4]?(p[1]="@supports (".concat(p[4],") {").concat(p[1],"}"),p[4]=n):p[4]="".concat(n)),o.push(p))}},o}},601(r){r.exports=function(r){return r[1]}},72(r){var o=[];function e(r){for(var e=-1,t=0;t<o.length;t++)if(o[t].identifier===r){e=t;break}return e}function t(r,t){for(var n={},a=[],i=0;i<r.length;i++){var c=r[i],s=t.base?c[0]+t.base:c[0],l=n[s]||0,p="".concat(s," ").concat(l);n[s]=l+1;var u=e(p),d={css:c[1],media:c[2],sourceMap:c[3],supports:c[4],layer:c[5]};if(-1!==u)o[u].references++,o[u].updater(d);else{var f=function(r,o){var e=o.domAPI(o);return e.update(r),function(o){o?(o.css!==r.css||o.media!==r.media||o.sourceMap!==r.sourceMap||o.supports!==r.supports||o.layer!==r.layer)&&e.update(r=o):e.remove()}}(d,t);t.byIndex=i,o.splice(i,0,{identifier:p,updater:f,references:1})}a.push(p)}return a}r.exports=function(r,n){var a=t(r=r||[],n=n||{});return function(r){r=r||[];for(var i=0;i<a.length;i++){var c=e(a[i]);o[c].references--}for(var s=t(r,n),l=0;l<a.length;l++){var p=e(a[l]);0===o[p].references&&(o[p].updater(),o.splice(p,1))}a=s}}},659(r){var o={};r.exports=function(r,e){var t=function(r){if(void 0===o[r]){var e=document.querySelector(r);if(window.HTMLIFrameElement&&e instanceof window.HTMLIFrameElement)try{e=e.contentDocument.head}catch(r){e=null}o[r]=e}return o[r]}(r);if(!t)throw Error("Couldn't find a style target. This probably means that the value for the 'insert' parameter is invalid.");t.appendChild(e)}},540(r){r.exports=function(r){var o=document.createElement("style");return r.setAttributes(o,r.attributes),r.insert(o,r.options),o}},56(r,o,e){r.exports=function(r){var o=e.nc;o&&r.setAttribute("nonce",o)}},825(r){r.exports=function(r){if("u"<typeof document)return{update:function(){},remove:function(){}};var o=r.insertStyleElement(r);return{update:function(e){var t,n,a;t="",e.supports&&(t+="@supports (".concat(e.supports,") {")),e.media&&(t+="@media ".concat(e.media," {")),(n=void 0!==e.layer)&&(t+="@layer".concat(e.layer.length>0?" ".concat(e.layer):""," {")),t+=e.css,n&&(t+="}"),e.media&&(t+="}"),e.supports&&(t+="}"),(a=e.sourceMap)&&"u">typeof btoa&&(t+="\n/*# sourceMappingURL=data:application/json;base64,".concat(btoa(unescape(encodeURIComponent(JSON.stringify(a))))," */")),r.styleTagTransform(t,o,r.options)},remove:function(){var r;null===(r=o).parentNode||r.parentNode.removeChild(r)}}}},113(r){r.exports=function(r,o){if(o.styleSheet)o.styleSheet.cssText=r;else{for(;o.firstChild;)o.removeChild(o.firstChild);o.appendChild(document.createTextNode(r))}}},959(r,o,e){var t=e(72),n=e.n(t),a=e(825),i=e.n(a),c=e(659),s=e.n(c),l=e(56),p=e.n(l),u=e(540),d=e.n(u),f=e(113),v=e.n(f),b=e(646),w={};w.styleTagTransform=v(),w.setAttributes=p(),w.insert=s().bind(null,"head"),w.domAPI=i(),w.insertStyleElement=d(),n()(b.A,w),b.A&&b.A.locals&&b.A.locals}}]);