import './index.css';
import './shared.css';
